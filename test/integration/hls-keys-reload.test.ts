/**
 * HLS AES-128 (hls_keys) decoded by ffprobe/ffmpeg with the key served over
 * HTTP, http_remux fast_cache for a new .aac player, and a SIGHUP that
 * changes the hls block of a live stream (new hls_fragment, keys off).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createDecipheriv } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, run, sleep, type Proc } from '../helpers/ffmpeg.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; fast_cache 5; }
  hls { enabled on; hls_fragment 2; hls_window 30; hls_path ./html; hls_keys on; hls_fragments_per_key 2; hls_key_file_path ./keys; }
}
`;

let server: RunningServer;
let live: Proc;

before(async () => {
  server = await startServer({ config: CONFIG });
  live = publish(server.rtmpUrl('live/livestream'), { seconds: 70, gop: 25 });
});

after(async () => {
  await live?.stop();
  await server?.stop();
});

function get(port: number, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

async function waitFile(path: string, pred: (text: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (text && pred(text)) return text;
    if (Date.now() > end) throw new Error(`${path} not ready: ${text}`);
    await sleep(200);
  }
}

const count = (text: string, re: RegExp): number => [...text.matchAll(re)].length;

test('hls_keys: AES-128 segments, a key line every 2 segments, key served over HTTP, ffmpeg decodes', async () => {
  const m3u8 = join(server.dir, 'html/live/livestream.m3u8');
  const text = await waitFile(m3u8, (t) => count(t, /#EXTINF/g) >= 3);
  const keyLine = /#EXT-X-KEY:METHOD=AES-128,URI="(livestream-(\d+)\.key)",IV=0x([0-9a-f]{32})\n(?:#EXT-X-PROGRAM-DATE-TIME:.*\n)?#EXTINF:.*\n(livestream-(\d+)\.ts)/.exec(text);
  assert.ok(keyLine, text);
  assert.equal(keyLine[2], keyLine[5], 'the key file is named after the first segment it encrypts');
  assert.equal(Number(keyLine[5]) % 2, 0);
  // The key file is on disk under hls_key_file_path and served by the HTTP server.
  const key = await get(server.httpPort, `/live/${keyLine[1]}`);
  assert.equal(key.status, 200);
  assert.equal(key.body.length, 16);
  assert.deepEqual(key.body, readFileSync(join(server.dir, 'keys/live', keyLine[1]!)));
  const seg = await get(server.httpPort, `/live/${keyLine[4]}`);
  assert.equal(seg.status, 200);
  const d = createDecipheriv('aes-128-cbc', key.body, Buffer.from(keyLine[3]!, 'hex'));
  const plain = Buffer.concat([d.update(seg.body), d.final()]);
  // Not the first byte alone: ciphertext starts with 0x47 one time in 256.
  assert.ok(!seg.body.subarray(0, plain.length).equals(plain), 'the segment is encrypted');
  assert.equal(plain[0], 0x47);
  assert.equal(plain.length % 188, 0);

  const r = await probe(server.httpUrl('live/livestream.m3u8'), 3);
  assert.equal(r.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  const p = run('ffmpeg', ['-hide_banner', '-nostdin', '-rw_timeout', '10000000', '-live_start_index', '0', '-i', server.httpUrl('live/livestream.m3u8'), '-t', '4', '-f', 'null', '-'], 40_000);
  await p.done;
  const frames = [...p.stderr().matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1]));
  assert.ok((frames.at(-1) ?? 0) >= 80, `decoded ${frames.at(-1)} frames: ${p.stderr().slice(-600)}`);
  assert.doesNotMatch(p.stderr(), /Invalid data|decrypt|error while decoding/i);
});

test('fast_cache: a new .aac player gets ~5 s of audio at once', async () => {
  // The publisher has been live for well over 5 s (the first test waited for 3 segments of 2 s).
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: server.httpPort, path: '/live/livestream.aac' }, (res) => {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'audio/x-aac');
      res.on('data', (c: Buffer) => chunks.push(c));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 400);
    });
    req.on('error', reject);
  });
  const body = Buffer.concat(chunks);
  let frames = 0;
  for (let i = 0; i + 7 <= body.length; ) {
    assert.equal(body[i], 0xff, `ADTS sync at ${i}`);
    assert.equal(body[i + 1]! & 0xf0, 0xf0);
    const len = ((body[i + 3]! & 3) << 11) | (body[i + 4]! << 3) | (body[i + 5]! >> 5);
    assert.ok(len > 7);
    i += len;
    frames++;
  }
  // 44.1 kHz AAC: ~43 frames a second. In 0.4 s of real time only the cache can give this many.
  assert.ok(frames >= 150, `only ${frames} ADTS frames in the first 0.4 s`);
  assert.ok(frames <= 260, `${frames} ADTS frames: more than fast_cache`);
});

test('a .mp3 file on disk at a mount-shaped path is served as a file; an unpublished .aac stream is waited for', async () => {
  mkdirSync(join(server.dir, 'html/music'), { recursive: true });
  writeFileSync(join(server.dir, 'html/music/song.mp3'), 'ID3 not really audio');
  const f = await get(server.httpPort, '/music/song.mp3');
  assert.equal(f.status, 200);
  assert.equal(f.headers['content-type'], 'audio/mpeg');
  assert.equal(f.headers['content-length'], '20');
  assert.equal(f.body.toString(), 'ID3 not really audio');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no response for an unpublished .aac stream'));
    }, 5000);
    const req = http.get({ host: '127.0.0.1', port: server.httpPort, path: '/live/nobody.aac' }, (res) => {
      clearTimeout(timer);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'audio/x-aac');
      req.destroy();
      resolve();
    });
    req.on('error', reject);
  });
});

test('SIGHUP: a new hls block restarts the live HLS muxer (hls_fragment 2 → 4, keys off)', async () => {
  const m3u8 = join(server.dir, 'html/live/livestream.m3u8');
  const text = readFileSync(server.configFile, 'utf8').replace('hls_fragment 2;', 'hls_fragment 4;').replace('hls_keys on;', 'hls_keys off;');
  writeFileSync(server.configFile, text);
  const lastBefore = Math.max(...[...readFileSync(m3u8, 'utf8').matchAll(/livestream-(\d+)\.ts/g)].map((m) => Number(m[1])));
  server.signal('SIGHUP');
  await server.waitForLog((l) => l.msg === 'config reloaded');
  await server.waitForLog((l) => l.msg === 'HLS restarted with new settings');
  // Wait for three segments after the reload (the one open at reload, then two of 4 s).
  const pl = await waitFile(m3u8, (t) => {
    const i = t.indexOf('#EXT-X-KEY:METHOD=NONE');
    return i >= 0 && count(t.slice(i), /#EXTINF/g) >= 3;
  }, 30_000);
  const lines = pl.trim().split('\n');
  const after = lines.slice(lines.findIndex((l) => l === '#EXT-X-KEY:METHOD=NONE'));
  const durs = after.filter((l) => l.startsWith('#EXTINF')).map((l) => Number(/#EXTINF:([\d.]+)/.exec(l)![1]));
  // The first plain segment is the one open at reload (cut at the next keyframe); then 4 s segments.
  for (const d of durs.slice(1)) assert.ok(Math.abs(d - 4) < 0.3, `durations after reload: ${durs.join(',')}`);
  assert.match(pl, /#EXT-X-TARGETDURATION:4\n/);
  const seqs = [...pl.matchAll(/livestream-(\d+)\.ts/g)].map((m) => Number(m[1]));
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, 'sequence numbers go on');
  assert.ok(seqs.at(-1)! > lastBefore);
  assert.doesNotMatch(pl, /#EXT-X-DISCONTINUITY/);
  const seg = await get(server.httpPort, `/live/livestream-${seqs.at(-1)}.ts`);
  assert.equal(seg.body[0], 0x47, 'plain MPEG-TS after keys were turned off');
  const r = await probe(server.httpUrl('live/livestream.m3u8'), 2);
  assert.equal(r.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
});
