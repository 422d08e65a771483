/**
 * JWT stream authentication with real clients: for RTMP publish and play
 * (ffmpeg), HTTP-FLV (ffprobe, fetch), HLS (ffprobe of the playlist with
 * ?token=, which must fetch its segments); WHEP is in jwt-whep.test.ts.
 * No token refused, a token for another stream refused, an expired token
 * refused, a valid token accepted. http_hooks are asked too (both must
 * pass), and `expire_sessions` ends a player when its token expires.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { JWT_TEST_SECRET, nowSeconds, signToken } from '../helpers/jwt-token.js';
import { decodeFrames, probe, publish, run, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = JWT_TEST_SECRET;
const LEEWAY = 5;
const now = nowSeconds;
const token = signToken;

let server: RunningServer;
let hookServer: http.Server;
const hookCalls: { action: string; stream: string; param: string }[] = [];
let publisher: Proc | null = null;
const tokens: string[] = [];
async function remembered(p: Promise<string>): Promise<string> {
  const t = await p;
  tokens.push(t);
  return t;
}

before(async () => {
  // The business server of http_hooks: refuses the stream named `hookdeny`, allows the rest.
  hookServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const b = JSON.parse(body || '{}') as { action?: string; stream?: string; param?: string };
      hookCalls.push({ action: b.action ?? '', stream: b.stream ?? '', param: b.param ?? '' });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(b.stream === 'hookdeny' ? '{"code":1}' : '{"code":0}');
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  jwt { enabled on; secret ${SECRET}; leeway ${LEEWAY}; expire_sessions on; }
  http_hooks { enabled on; on_publish ${hook}; on_play ${hook}; }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  hls { enabled on; hls_fragment 1; hls_window 10; hls_path ./html; }
  dash { enabled on; dash_fragment 1; dash_path ./html/dash; }
  play { gop_cache on; }
}
vhost ll {
  jwt { enabled on; secret ${SECRET}; }
  hls { enabled on; hls_ll on; hls_fragment 1; hls_part_duration 0.5; hls_window 10; hls_path ./html/ll; }
}
`,
  });
  const t = await remembered(token({ publish: ['live/cam'] }));
  publisher = publish(server.rtmpUrl(`live/cam?token=${t}`), { seconds: 120, size: '320x240' });
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
});

after(async () => {
  await publisher?.stop();
  await server?.stop();
  hookServer?.closeAllConnections();
  hookServer?.close();
  // The tokens themselves never reach the log (the refusal lines carry a hash).
  for (const t of tokens) {
    const line = server?.logs.find((l) => JSON.stringify(l).includes(t.split('.')[2]!));
    assert.equal(line, undefined, 'no token in the server log');
  }
});

/** ffmpeg publishes for 2 s; true when the server took the stream. */
async function tryPublish(url: string): Promise<{ ok: boolean; serverError: string }> {
  const p = publish(url, { seconds: 2, size: '160x120', audio: false });
  const code = await p.done;
  return { ok: code === 0, serverError: /Server error: (.*)/.exec(p.stderr())?.[1] ?? p.stderr().slice(-200) };
}

test('RTMP publish: no token, another stream, expired → refused; http_hooks still decide; the hook is not asked for a bad token', async () => {
  const before = hookCalls.length;
  const none = await tryPublish(server.rtmpUrl('live/other'));
  assert.equal(none.ok, false);
  assert.match(none.serverError, /jwt: no token for publish/);
  assert.equal(hookCalls.length, before, 'JWT refuses before on_publish is called');

  const wrong = await tryPublish(server.rtmpUrl(`live/other?token=${await remembered(token({ publish: ['live/cam'] }))}`));
  assert.equal(wrong.ok, false);
  assert.match(wrong.serverError, /does not grant publish of live\/other/);

  const playOnly = await tryPublish(server.rtmpUrl(`live/other?token=${await remembered(token({ play: ['live/*'] }))}`));
  assert.equal(playOnly.ok, false, 'a play grant does not publish');

  const expired = await tryPublish(server.rtmpUrl(`live/other?token=${await remembered(token({ publish: ['live/*'] }, now() - 60))}`));
  assert.equal(expired.ok, false);
  assert.match(expired.serverError, /ERR_JWT_EXPIRED/);

  const hookDenied = await tryPublish(server.rtmpUrl(`live/hookdeny?token=${await remembered(token({ publish: ['live/*'] }))}`));
  assert.equal(hookDenied.ok, false, 'a valid token and a refusing hook: refused (both must pass)');
  assert.ok(hookCalls.some((c) => c.action === 'on_publish' && c.stream === 'hookdeny'), 'the hook was asked');

  const ok = await tryPublish(server.rtmpUrl(`live/other?token=${await remembered(token({ publish: ['live/*'] }))}`));
  assert.equal(ok.ok, true, `valid token: ${ok.serverError}`);
});

test('RTMP play: refused without a valid token; the token in the stream param or in the tcUrl plays H.264', async () => {
  for (const q of ['', `?token=${await remembered(token({ play: ['live/cam2'] }))}`, `?token=${await remembered(token({ play: ['live/cam'] }, now() - 60))}`]) {
    const r = await decodeFrames(server.rtmpUrl(`live/cam${q}`), 1);
    assert.equal(r.frames, 0, `refused: ${q.slice(0, 20)}`);
    assert.notEqual(r.code, 0);
  }
  const t = await remembered(token({ play: ['live/*'] }));
  const played = await decodeFrames(server.rtmpUrl(`live/cam?token=${t}`), 2);
  assert.ok(played.frames >= 20, `frames decoded with the token in the stream param: ${played.frames} ${played.stderr.slice(-300)}`);
  const tc = run('ffmpeg', ['-hide_banner', '-nostdin', '-rtmp_tcurl', `rtmp://127.0.0.1:${server.rtmpPort}/live?token=${t}`, '-i', server.rtmpUrl('live/cam'), '-t', '2', '-f', 'null', '-'], 40_000);
  // While it plays, the API lists its tcUrl with the token cut to its first characters.
  let listed: { type: string; tcUrl: string } | undefined;
  await waitFor(async () => {
    const body = (await (await fetch(server.apiUrl('api/v1/clients/'))).json()) as { clients: Array<{ type: string; tcUrl: string }> };
    listed = body.clients.find((c) => c.type === 'rtmp-play' && c.tcUrl.includes('token='));
    return listed !== undefined;
  }, 10_000, 100);
  assert.ok(listed, 'the tcUrl player in /api/v1/clients');
  assert.equal(listed.tcUrl, `rtmp://127.0.0.1:${server.rtmpPort}/live?token=${t.slice(0, 4)}…(${t.length} chars)`);
  assert.equal(await tc.done, 0, `token in the tcUrl: ${tc.stderr().slice(-300)}`);
});

test('HTTP-FLV: 401 without a token or with an expired one, 403 for another stream; ?token= and Bearer play', async () => {
  const url = server.httpUrl('live/cam.flv');
  const none = await fetch(url);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  await none.body?.cancel();
  const wrong = await fetch(url, { headers: { Authorization: `Bearer ${await remembered(token({ play: ['live/cam2'] }))}` } });
  assert.equal(wrong.status, 403);
  await wrong.body?.cancel();
  const expired = await fetch(`${url}?token=${await remembered(token({ play: ['live/cam'] }, now() - 60))}`);
  assert.equal(expired.status, 401);
  await expired.body?.cancel();

  const t = await remembered(token({ play: ['live/cam'] }));
  const r = await probe(`${url}?token=${t}`, 2);
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(v?.width, 320);
  assert.ok(r.packets.length > 20, `packets: ${r.packets.length}`);
  const bearer = run('ffprobe', ['-v', 'error', '-headers', `Authorization: Bearer ${t}\r\n`, '-read_intervals', '%+1', '-show_streams', '-of', 'json', url], 30_000);
  let out = '';
  bearer.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  assert.equal(await bearer.done, 0, bearer.stderr());
  assert.match(out, /"codec_name": "h264"/);
});

/** A WebSocket-FLV play: the HTTP status of a refused upgrade, or the first bytes received. */
function wsPlay(url: string, headers: Record<string, string> = {}): Promise<{ status: number } | { first: Buffer }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('message', (data: Buffer) => {
      resolve({ first: data });
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

test('WebSocket-FLV: 401 without a token, 403 for another stream, FLV with ?token= or Bearer', async () => {
  const url = `ws://127.0.0.1:${server.httpPort}/live/cam.flv`;
  assert.deepEqual(await wsPlay(url), { status: 401 });
  assert.deepEqual(await wsPlay(url, { Authorization: `Bearer ${await remembered(token({ play: ['live/cam2'] }))}` }), { status: 403 });
  const t = await remembered(token({ play: ['live/cam'] }));
  for (const r of [await wsPlay(`${url}?token=${t}`), await wsPlay(url, { Authorization: `Bearer ${t}` })]) {
    assert.ok('first' in r, JSON.stringify(r));
    assert.equal(r.first.subarray(0, 3).toString(), 'FLV');
  }
});

test('HLS: ffprobe of the playlist with ?token= fetches its segments; no token, another stream, expired: refused; a segment without its session: 403', async () => {
  const m3u8 = join(server.dir, 'html/live/cam.m3u8');
  assert.ok(await waitFor(() => existsSync(m3u8) && (readFileSync(m3u8, 'utf8').match(/\.ts/g) ?? []).length >= 3, 30_000, 100), 'HLS segments written');
  const url = server.httpUrl('live/cam.m3u8');
  for (const q of ['', `?token=${await remembered(token({ play: ['live/cam2'] }))}`, `?token=${await remembered(token({ play: ['live/cam'] }, now() - 60))}`]) {
    await assert.rejects(probe(`${url}${q}`, 2), /exited/, `refused: ${q.slice(0, 20)}`);
  }
  const t = await remembered(token({ play: ['live/cam'] }));
  const r = await probe(`${url}?token=${t}`, 3);
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(v?.width, 320);
  assert.ok(r.packets.filter((p) => p.stream_index === r.streams.indexOf(v!)).length > 25, 'video packets from the segments');

  // The session's variant playlist lists segments with its hls_ctx; without it (or with another id) they are refused.
  const master = await (await fetch(`${url}?token=${t}`)).text();
  const variant = /^(cam\.m3u8\?hls_ctx=[^\s]+)$/m.exec(master)?.[1];
  assert.ok(variant, master);
  const variantRes = await fetch(server.httpUrl(`live/${variant}`));
  // The session's playlist carries its id: private, never kept by a shared cache.
  assert.match(String(variantRes.headers.get('cache-control')), /^private, max-age=\d+$/);
  const pl = await variantRes.text();
  const seg = /^(cam-\d+\.ts)\?hls_ctx=([\w-]+)$/m.exec(pl);
  assert.ok(seg, pl);
  const good = await fetch(server.httpUrl(`live/${seg[1]}?hls_ctx=${seg[2]}`));
  assert.equal(good.status, 200);
  assert.ok((await good.arrayBuffer()).byteLength > 1000);
  for (const q of ['', '?hls_ctx=unknown1', `?token=${t}`]) {
    const bad: Response = await fetch(server.httpUrl(`live/${seg[1]}${q}`));
    assert.equal(bad.status, 403, `segment ${q}`);
    await bad.body?.cancel();
  }
  // The session opens its own stream only: another playlist with its id is refused (and hands it nothing).
  writeFileSync(join(server.dir, 'html/live/elsewhere.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nelsewhere-1.ts\n');
  const other = await fetch(server.httpUrl(`live/elsewhere.m3u8?hls_ctx=${seg[2]}`));
  assert.equal(other.status, 403, await other.text());
  // The newest segment is answered from memory: the same guard, the file's bytes for its session only.
  const newest = [...pl.matchAll(/^(cam-\d+\.ts)\?hls_ctx=([\w-]+)$/gm)].pop()!;
  const mem = await fetch(server.httpUrl(`live/${newest[1]}?hls_ctx=${newest[2]}`));
  assert.equal(mem.status, 200);
  assert.match(String(mem.headers.get('cache-control')), /immutable$/, 'from memory');
  assert.ok(Buffer.from(await mem.arrayBuffer()).equals(readFileSync(join(server.dir, 'html/live', newest[1]!))), 'segment bytes as on disk');
  for (const q of ['', '?hls_ctx=unknown1', `?token=${t}`]) {
    const bad: Response = await fetch(server.httpUrl(`live/${newest[1]}${q}`));
    assert.equal(bad.status, 403, `newest segment ${q}`);
    await bad.body?.cancel();
  }
});

test('DASH on a JWT vhost: the token on the MPD opens a session that covers its segments; no token, another stream, expired: refused', { timeout: 60_000 }, async () => {
  const dir = join(server.dir, 'html/dash/live');
  const segDir = join(dir, 'cam');
  const written = (): boolean => existsSync(join(dir, 'cam.mpd')) && existsSync(segDir) && readdirSync(segDir).filter((f) => f.endsWith('.m4s')).length >= 4;
  assert.ok(await waitFor(written, 30_000, 100), 'DASH files written');
  const mpdUrl = server.httpUrl('live/cam.mpd');
  for (const q of ['', `?token=${await remembered(token({ play: ['live/cam2'] }))}`, `?token=${await remembered(token({ play: ['live/cam'] }, now() - 60))}`]) {
    await assert.rejects(probe(`${mpdUrl}${q}`, 2), /exited/, `refused: ${q.slice(0, 20)}`);
  }
  // Without a session id: a redirect that adds a new one, never cached; the admission is on the redirected request.
  const first = await fetch(mpdUrl, { redirect: 'manual' });
  assert.equal(first.status, 302);
  assert.match(String(first.headers.get('location')), /^cam\.mpd\?dash_ctx=[\w-]+$/);
  assert.equal(first.headers.get('cache-control'), 'private, no-store');
  assert.equal((await fetch(mpdUrl)).status, 401, 'no token');
  assert.equal((await fetch(`${mpdUrl}?token=${await remembered(token({ play: ['live/cam2'] }))}`)).status, 403, 'a token for another stream');

  const t = await remembered(token({ play: ['live/cam'] }));
  const ok = await fetch(`${mpdUrl}?token=${t}`);
  assert.equal(ok.status, 200);
  assert.match(String(ok.headers.get('cache-control')), /^private/);
  const id = new URL(ok.url).searchParams.get('dash_ctx');
  assert.ok(id, ok.url);
  const mpd = await ok.text();
  assert.ok(mpd.includes(`media="$RepresentationID$-$Number$.m4s?dash_ctx=${id}"`), mpd);
  assert.ok(mpd.includes(`initialization="$RepresentationID$-init.mp4?dash_ctx=${id}"`), mpd);
  // Older segments are on disk, the inits and newest ones in memory: all of them for this session, none without it.
  const files = readdirSync(segDir);
  assert.ok(files.includes('video-init.mp4') && files.includes('audio-init.mp4'), files.join(','));
  // The newest three of each track (in the window a while yet: older ones may be deleted as it slides).
  const newest = (kind: string): string[] =>
    files
      .filter((f) => new RegExp(`^${kind}-\\d+\\.m4s$`).test(f))
      .sort((a, b) => Number(/(\d+)/.exec(a)![1]) - Number(/(\d+)/.exec(b)![1]))
      .slice(-3);
  for (const f of [...newest('video'), ...newest('audio'), 'video-init.mp4', 'audio-init.mp4']) {
    const good: Response = await fetch(server.httpUrl(`live/cam/${f}?dash_ctx=${id}`));
    assert.equal(good.status, 200, f);
    assert.ok((await good.arrayBuffer()).byteLength > 100, f);
    for (const q of ['', '?dash_ctx=unknown1', `?token=${t}`]) {
      const bad: Response = await fetch(server.httpUrl(`live/cam/${f}${q}`));
      assert.equal(bad.status, 403, `${f}${q}`);
      await bad.body?.cancel();
    }
  }
  // The session's id opens its own stream's files only.
  mkdirSync(join(dir, 'elsewhere'), { recursive: true });
  writeFileSync(join(dir, 'elsewhere/video-init.mp4'), readFileSync(join(segDir, 'video-init.mp4')));
  assert.equal((await fetch(server.httpUrl(`live/elsewhere/video-init.mp4?dash_ctx=${id}`))).status, 403);
  // The player is a client of the stream while it reads.
  const clients = (await (await fetch(server.apiUrl('api/v1/clients/'))).json()) as { clients: Array<{ type: string; name: string }> };
  assert.ok(clients.clients.some((c) => c.type === 'dash-play' && c.name === 'cam'), JSON.stringify(clients.clients));
  // No token in the API (a tcUrl or page URL with ?token= shows its first characters only).
  const apiText = JSON.stringify(clients) + (await (await fetch(server.apiUrl('api/v1/streams/'))).text());
  for (const tk of tokens) assert.ok(!apiText.includes(tk.split('.')[2]!), 'no token in the API');
  // A real DASH client (ffmpeg's demuxer): redirect, MPD, then the segments with the session id.
  const r = await probe(`${mpdUrl}?token=${t}`, 3);
  const v = r.streams.find((st) => st.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(v?.width, 320);
  assert.ok(r.packets.filter((p) => p.stream_index === r.streams.indexOf(v!)).length > 25, 'video packets from the segments');
});

test('LL-HLS: the token on the playlist covers its init section, segments and parts; without the session: 403', { timeout: 60_000 }, async () => {
  const t = await remembered(token({ publish: ['live/low'], play: ['live/low'] }));
  const pub = publish(server.rtmpUrl(`live/low?vhost=ll&token=${t}`), { seconds: 30, size: '320x240' });
  try {
    const url = server.httpUrl(`live/low.m3u8?vhost=ll&token=${t}`);
    let master = '';
    // The LL-HLS stream exists once the publisher's first frames arrived.
    assert.ok(await waitFor(async () => {
      const r = await fetch(url);
      master = await r.text();
      return r.status === 200;
    }, 20_000, 250), master);
    const variant = /^(low\.m3u8\?hls_ctx=[^\s]+)$/m.exec(master)?.[1];
    assert.ok(variant, master);
    let pl = '';
    assert.ok(
      await waitFor(async () => {
        const r = await fetch(server.httpUrl(`live/${variant}`));
        pl = await r.text();
        return r.status === 200 && (pl.match(/^low-\d+\.m4s/gm) ?? []).length >= 2;
      }, 30_000, 250),
      `LL-HLS playlist with segments: ${pl}`,
    );
    assert.match(pl, /#EXT-X-MAP:URI="low-init\.mp4\?hls_ctx=/);
    const part = /#EXT-X-PART:[^\n]*URI="(low-\d+\.\d+\.m4s)\?hls_ctx=([\w-]+)"/.exec(pl);
    assert.ok(part, pl);
    const good = await fetch(server.httpUrl(`live/${part[1]}?hls_ctx=${part[2]}`));
    assert.equal(good.status, 200);
    assert.ok((await good.arrayBuffer()).byteLength > 100);
    for (const path of [`live/${part[1]}`, 'live/low-init.mp4', `live/${part[1]}?hls_ctx=nosuchid`]) {
      const bad: Response = await fetch(server.httpUrl(path));
      assert.equal(bad.status, 403, path);
      await bad.body?.cancel();
    }
    const r = await probe(url, 2);
    const v = r.streams.find((s) => s.codec_type === 'video');
    assert.equal(v?.codec_name, 'h264');
    assert.ok(r.packets.length > 20, `packets from the fMP4 segments: ${r.packets.length}`);
    await assert.rejects(probe(server.httpUrl('live/low.m3u8?vhost=ll'), 2), /exited/, 'no token: refused');
  } finally {
    await pub.stop();
  }
});

test('expire_sessions: an HTTP-FLV player is cut when its token expires (plus the leeway)', { timeout: 60_000 }, async () => {
  const exp = now() + 2;
  const res = await fetch(server.httpUrl(`live/cam.flv?token=${await remembered(token({ play: ['live/cam'] }, exp))}`));
  assert.equal(res.status, 200);
  let bytes = 0;
  const ended = (async () => {
    try {
      for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
    } catch {
      // the server closing the connection mid-stream is the point
    }
    return Date.now();
  })();
  const at = await ended;
  assert.ok(bytes > 10_000, `played before the expiry: ${bytes} bytes`);
  assert.ok(at >= (exp + LEEWAY) * 1000 - 1000, `not cut before exp + leeway (${(at - (exp + LEEWAY) * 1000) / 1000} s)`);
  assert.ok(at <= (exp + LEEWAY) * 1000 + 10_000, 'cut soon after exp + leeway');
  await server.waitForLog((l) => l.msg === 'jwt: token expired, session closed', 5000);
});

test('expire_sessions: a DASH session ends when its token expires; its id then opens nothing', { timeout: 60_000 }, async () => {
  // The stream's MPD exists once DASH wrote its first segment (this test may run alone).
  const probeToken = await remembered(token({ play: ['live/cam'] }));
  assert.ok(await waitFor(async () => (await fetch(server.httpUrl(`live/cam.mpd?token=${probeToken}`))).status === 200, 30_000, 250), 'the MPD');
  const exp = now() + 2;
  const t = await remembered(token({ play: ['live/cam'] }, exp));
  const ok = await fetch(server.httpUrl(`live/cam.mpd?token=${t}`));
  assert.equal(ok.status, 200);
  const id = new URL(ok.url).searchParams.get('dash_ctx')!;
  await ok.body?.cancel();
  assert.equal((await fetch(server.httpUrl(`live/cam/video-init.mp4?dash_ctx=${id}`))).status, 200);
  await server.waitForLog((l) => l.msg === 'jwt: token expired, session closed' && l['cid'] === id && l['type'] === 'dash-play', 20_000);
  assert.ok(Date.now() >= (exp + LEEWAY) * 1000 - 1000, 'not before exp + leeway');
  assert.equal((await fetch(server.httpUrl(`live/cam/video-init.mp4?dash_ctx=${id}`))).status, 403, 'its segments');
  assert.equal((await fetch(server.httpUrl(`live/cam.mpd?dash_ctx=${id}&token=${t}`))).status, 404, 'its MPD (a kicked session)');
});
