/**
 * Classic HLS with real ffmpeg publishers and ffprobe/ffmpeg players:
 * segment durations by the GOP/fragment rules, sliding window and cleanup,
 * republish discontinuity, dispose, hls_ctx sessions, HTTP headers and
 * ranges, and traversal attempts against the web root.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, decodeFrames, sleep, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
http_api { enabled on; listen {{API}}; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  hls { enabled on; hls_fragment 5; hls_window 60; hls_path ./html; }
}
vhost nokey {
  hls { enabled on; hls_fragment 5; hls_wait_keyframe off; hls_window 60; hls_path ./html/nokey; hls_dispose 3; hls_ctx off; }
}
vhost short {
  hls { enabled on; hls_fragment 1; hls_window 3; hls_path ./html; hls_m3u8_file [vhost]/[app]/[stream].m3u8; hls_ts_file [vhost]/[app]/[stream]-[seq].ts; }
}
`;

let server: RunningServer;
let live: Proc;

before(async () => {
  server = await startServer({ config: CONFIG });
  live = publish(server.rtmpUrl('live/livestream'), { seconds: 60, gop: 25 });
});

after(async () => {
  await live?.stop();
  await server?.stop();
});

function durations(m3u8: string): number[] {
  return [...m3u8.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
}

async function waitFile(path: string, pred: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (text && pred(text)) return text;
    if (Date.now() > end) throw new Error(`${path} not ready: ${text}`);
    await sleep(200);
  }
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('GOP 2 s + hls_fragment 5 s gives ~6 s segments; GOP 10 s gives 10 s', async () => {
  const a = publish(server.rtmpUrl('live/gop2'), { seconds: 20, gop: 50, realtime: false });
  const b = publish(server.rtmpUrl('live/gop10'), { seconds: 31, gop: 250, realtime: false });
  assert.equal(await a.done, 0, a.stderr());
  assert.equal(await b.done, 0, b.stderr());
  const m2 = await waitFile(join(server.dir, 'html/live/gop2.m3u8'), (t) => durations(t).length >= 3);
  const d2 = durations(m2);
  for (const d of d2.slice(0, 3)) assert.ok(Math.abs(d - 6) < 0.05, `GOP 2 s segment of ${d} s: ${m2}`);
  assert.match(m2, /#EXT-X-TARGETDURATION:6\n/);
  const m10 = await waitFile(join(server.dir, 'html/live/gop10.m3u8'), (t) => durations(t).length >= 3);
  for (const d of durations(m10).slice(0, 3)) assert.ok(Math.abs(d - 10) < 0.05, `GOP 10 s segment of ${d} s`);
  assert.match(m10, /#EXT-X-TARGETDURATION:10\n/);
  // A segment is a real TS file with H.264 + AAC.
  const r = await probe(server.httpUrl('live/gop2-1.ts'), 10);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
});

test('hls_wait_keyframe off cuts at hls_fragment; hls_dispose removes the files after unpublish', async () => {
  const p = publish(`${server.rtmpUrl('live/nk')}?vhost=nokey`, { seconds: 16, gop: 250, realtime: false });
  assert.equal(await p.done, 0, p.stderr());
  const path = join(server.dir, 'html/nokey/live/nk.m3u8');
  const m = await waitFile(path, (t) => durations(t).length >= 3);
  for (const d of durations(m).slice(0, 3)) assert.ok(Math.abs(d - 5) < 0.05, `segment of ${d} s`);
  // Disposal runs on the server's timer after hls_dispose, and removes the playlist first, then
  // the segments one by one on the writer's queue: wait for all of it, however slow the machine.
  const segments = (): string[] => readdirSync(join(server.dir, 'html/nokey/live')).filter((f) => f.endsWith('.ts'));
  assert.ok(await waitFor(() => !existsSync(path) && segments().length === 0, 30_000, 100), `playlist and segments disposed; left: ${segments().join(',')}`);
});

test('sliding window with cleanup; republish adds a discontinuity and sequence numbers go on', async () => {
  const p = publish(`${server.rtmpUrl('live/sl')}?vhost=short`, { seconds: 12, gop: 25, realtime: false });
  assert.equal(await p.done, 0, p.stderr());
  const path = join(server.dir, 'html/short/live/sl.m3u8');
  const m = await waitFile(path, (t) => /#EXT-X-MEDIA-SEQUENCE:([5-9]|\d\d)/.test(t));
  const total = durations(m).reduce((s, d) => s + d, 0);
  assert.ok(total > 3 && total <= 4.1, `window holds just over hls_window: ${total}`);
  // A player holding the previous playlist asks for the segment that just slid out of it: RFC 8216
  // §6.2.2 keeps it for its duration plus the playlist's (SRS deletes it at once; hls.js then gets 404).
  const first = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(m)![1]);
  const slid = await get(server.httpPort, `/short/live/sl-${first - 1}.ts`);
  assert.equal(slid.status, 200, `sl-${first - 1}.ts, slid out of\n${m}`);
  assert.equal(slid.body[0], 0x47);
  // Once the last playlist has played out after the unpublish, only its segments stay on disk.
  const tsFiles = (): string[] => readdirSync(join(server.dir, 'html/short/live')).filter((f) => f.endsWith('.ts'));
  let latest = m;
  const onlyWindow = await waitFor(() => {
    latest = readFileSync(path, 'utf8');
    const listed = latest.split('\n').filter((l) => l.endsWith('.ts'));
    const files = tsFiles();
    return files.length === listed.length && listed.every((f) => files.includes(f));
  }, 30_000, 100);
  assert.ok(onlyWindow, `only window segments stay on disk: ${tsFiles().join(',')}\n${latest}`);
  // The republish runs in real time, so the playlist that first shows the discontinuity still lists
  // the last segments of the first publish (a 3 s window of 1 s segments): the first segment after the
  // discontinuity is numbered one more than the last one before it, whenever the first publish's
  // final segment (closed at its unpublish, on the writer's queue) landed.
  const again = publish(`${server.rtmpUrl('live/sl')}?vhost=short`, { seconds: 3, gop: 25 });
  const m2 = await waitFile(path, (t) => {
    const l = t.split('\n');
    const d = l.indexOf('#EXT-X-DISCONTINUITY');
    return d > 0 && l.slice(0, d).some((x) => x.endsWith('.ts')) && l.slice(d).some((x) => x.endsWith('.ts'));
  });
  assert.equal(await again.done, 0, again.stderr());
  const lines = m2.split('\n');
  const disc = lines.indexOf('#EXT-X-DISCONTINUITY');
  const before = lines.slice(0, disc).filter((x) => x.endsWith('.ts')).pop()!;
  const after = lines.slice(disc).find((x) => x.endsWith('.ts'))!;
  const num = (uri: string): number => Number(/^sl-(\d+)\.ts$/.exec(uri)?.[1]);
  assert.ok(num(before) >= Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(latest)![1]), `numbering never restarts:\n${m2}`);
  assert.equal(num(after), num(before) + 1, `sequence numbers go on across the republish:\n${m2}`);
});

test('live HLS plays in ffprobe/ffmpeg; playlist and segment headers, ranges, CORS', async () => {
  const path = join(server.dir, 'html/live/livestream.m3u8');
  await waitFile(path, (t) => durations(t).length >= 1, 30_000);
  const r = await probe(server.httpUrl('live/livestream.m3u8'), 3);
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(v?.width, 320);
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  const dec = await decodeFrames(server.httpUrl('live/livestream.m3u8'), 2);
  assert.ok(dec.frames >= 40, `decoded ${dec.frames} frames: ${dec.stderr.slice(-400)}`);

  const pl = await get(server.httpPort, '/live/livestream.m3u8?hls_ctx=test1234', { Origin: 'http://example.com' });
  assert.equal(pl.status, 200);
  assert.equal(pl.headers['content-type'], 'application/vnd.apple.mpegurl');
  // From memory (a live playlist Sluice writes): cacheable by a CDN for less than half a segment.
  assert.match(String(pl.headers['cache-control']), /^public, max-age=[1-9]\d*$/);
  assert.equal(pl.headers['access-control-allow-origin'], '*');
  const seg = /^(livestream-\d+\.ts)\?hls_ctx=test1234$/m.exec(pl.body.toString())?.[1];
  assert.ok(seg, pl.body.toString());
  const ts = await get(server.httpPort, `/live/${seg}`, { Range: 'bytes=188-375' });
  assert.equal(ts.status, 206);
  assert.equal(ts.headers['content-type'], 'video/MP2T');
  assert.match(String(ts.headers['content-range']), /^bytes 188-375\/\d+$/);
  assert.equal(ts.headers['cache-control'], 'public, max-age=60');
  assert.equal(ts.body.length, 188);
  assert.equal(ts.body[0], 0x47);
  // The whole newest segment comes from memory: the same bytes as the file, immutable for a CDN.
  const newest = [...pl.body.toString().matchAll(/^(livestream-\d+\.ts)\?hls_ctx=test1234$/gm)].pop()![1]!;
  const whole = await get(server.httpPort, `/live/${newest}?hls_ctx=test1234`, { Origin: 'http://example.com' });
  assert.equal(whole.status, 200);
  assert.equal(whole.headers['content-type'], 'video/MP2T');
  assert.match(String(whole.headers['cache-control']), /^public, max-age=\d+, immutable$/);
  assert.equal(whole.headers['access-control-allow-origin'], '*');
  assert.ok(whole.body.equals(readFileSync(join(server.dir, 'html/live', newest))), 'segment bytes as on disk');
  const missing = await get(server.httpPort, '/live/nothing-here.ts');
  assert.equal(missing.status, 404);
  // A playlist only on disk (not one Sluice is writing) is read from the file: one second for a cache.
  writeFileSync(join(server.dir, 'html/live/ondisk.m3u8'), `#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5.0,\n${newest}\n#EXT-X-ENDLIST\n`);
  const disk = await get(server.httpPort, '/live/ondisk.m3u8?hls_ctx=disk1234');
  assert.equal(disk.status, 200);
  assert.equal(disk.headers['cache-control'], 'public, max-age=1');
  assert.ok(disk.body.toString().includes(`${newest}?hls_ctx=disk1234`), disk.body.toString());
});

test('hls_ctx: master playlist, one client per session, ended after 2 × hls_window', async () => {
  const m3u8 = join(server.dir, 'html/short/live/sess.m3u8');
  const p = publish(`${server.rtmpUrl('live/sess')}?vhost=short`, { seconds: 4, gop: 25, realtime: false });
  await p.done;
  await waitFile(m3u8, (t) => durations(t).length >= 1);
  const master = await get(server.httpPort, '/short/live/sess.m3u8?vhost=short');
  // Each player's own session id: never stored by a CDN or shared cache.
  assert.equal(master.headers['cache-control'], 'private, no-store');
  const text = master.body.toString();
  assert.match(text, /#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\nsess\.m3u8\?hls_ctx=[0-9a-z]{8}&vhost=short\n/);
  const child = /sess\.m3u8\?hls_ctx=([0-9a-z]{8})/.exec(text)![1]!;
  const media = await get(server.httpPort, `/short/live/sess.m3u8?hls_ctx=${child}&vhost=short`);
  assert.equal(media.status, 200);
  assert.match(media.body.toString(), new RegExp(`sess-\\d+\\.ts\\?hls_ctx=${child}`));
  const again = await get(server.httpPort, `/short/live/sess.m3u8?hls_ctx=${child}&vhost=short`);
  const started = await server.waitForLog((l) => l.msg === 'HLS play started' && l.cid === child);
  assert.ok(started);
  // The session's bytes: its playlists and segments (from disk here), as the API reports them.
  // The newest segment: the oldest may be deleted by the window's last slide between the playlist read
  // and this request (slid-out segments are removed at once; see the session 8 note on RFC 8216 §6.2.2).
  const segUri = [...again.body.toString().matchAll(new RegExp(`^(sess-\\d+\\.ts)\\?hls_ctx=${child}`, 'gm'))].pop()![1]!;
  const seg = await get(server.httpPort, `/short/live/${segUri}?hls_ctx=${child}&vhost=short`);
  assert.equal(seg.status, 200);
  const want = again.body.length + seg.body.length;
  let sent = 0;
  assert.ok(await waitFor(async () => {
    const { clients } = (await (await fetch(server.apiUrl('/api/v1/clients/'))).json()) as { clients: { id: string; send_bytes: number }[] };
    sent = clients.find((c) => c.id === child)?.send_bytes ?? 0;
    return sent >= want;
  }, 10_000, 200), `the session sent ${sent} bytes, its playlist and segment were ${want}`);
  assert.equal(server.logs.filter((l) => l.msg === 'HLS play started' && l.cid === child).length, 1, 'one session for repeated requests');
  const stopped = await server.waitForLog((l) => l.msg === 'HLS play stopped' && l.cid === child, 12_000);
  assert.equal(stopped.reason, 'timeout');
});

test('the web root is a jail: traversal refused in every spelling', async () => {
  writeFileSync(join(server.dir, 'secret.txt'), 'TOPSECRET');
  const attempts = [
    '/../secret.txt',
    '/live/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/%2e%2e/secret.txt',
    '/%252e%252e/secret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '/live/..\\..\\secret.txt',
    '/%2e%2e%5csecret.txt',
    '/live/%00../secret.txt',
  ];
  for (const path of attempts) {
    const r = await get(server.httpPort, path);
    assert.ok(r.status === 403 || r.status === 404 || r.status === 400, `${path} → ${r.status}`);
    assert.ok(!r.body.toString().includes('TOPSECRET'), `${path} leaked the file`);
  }
  // A publisher's names cannot make the server write outside hls_path.
  const bad = publish(server.rtmpUrl('live/..%2F..%2Fescape'), { seconds: 2, realtime: false });
  await bad.done;
  await sleep(500);
  assert.equal(existsSync(join(server.dir, 'escape.m3u8')), false);
  assert.equal(existsSync(join(server.dir, '..', 'escape.m3u8')), false);
});
