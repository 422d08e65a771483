/**
 * MPEG-DASH: ffmpeg publishes, ffprobe/ffmpeg read the dynamic MPD; the files
 * follow SRS's layout and content types.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { decodeFrames, probe, publish, sleep, type Proc } from '../helpers/ffmpeg.js';

let server: RunningServer;
let p: Proc;

before(async () => {
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  dash { enabled on; dash_fragment 2; dash_update_period 2; dash_window_size 5; dash_path ./html; }
}
`,
  });
  p = publish(server.rtmpUrl('live/livestream'), { seconds: 40, gop: 25 });
  const mpd = join(server.dir, 'html/live/livestream.mpd');
  for (let i = 0; i < 100 && !(existsSync(mpd) && (readFileSync(mpd, 'utf8').match(/<S /g)?.length ?? 0) >= 6); i++) await sleep(200);
});

after(async () => {
  await p?.stop();
  await server?.stop();
});

test('dynamic MPD with video and audio; SRS file layout', async () => {
  const text = readFileSync(join(server.dir, 'html/live/livestream.mpd'), 'utf8');
  assert.match(text, /type="dynamic"/);
  assert.match(text, /<BaseURL>livestream\/<\/BaseURL>/);
  assert.match(text, /codecs="avc1\.[0-9a-f]{6}"/);
  assert.match(text, /codecs="mp4a\.40\.2"/);
  for (const f of ['video-init.mp4', 'audio-init.mp4']) assert.ok(existsSync(join(server.dir, 'html/live/livestream', f)), f);
  const n = Number(/startNumber="(\d+)"/.exec(text)![1]);
  assert.ok(existsSync(join(server.dir, `html/live/livestream/video-${n}.m4s`)));
  const res = await fetch(server.httpUrl('live/livestream.mpd'));
  assert.equal(res.headers.get('content-type'), 'application/dash+xml');
  const seg = await fetch(server.httpUrl(`live/livestream/video-${n}.m4s`));
  assert.equal(seg.status, 200);
  assert.equal(seg.headers.get('content-type'), 'video/iso.segment');
  assert.equal(Buffer.from(await seg.arrayBuffer()).toString('latin1', 4, 8), 'moof');
  // The MPD and the newest segment come from memory: the bytes of the files, cache headers for a CDN.
  assert.match(String(res.headers.get('cache-control')), /^public, max-age=[1-9]\d*$/);
  // The newest video segment this MPD lists (the video representation comes first).
  const served = await res.text();
  const from = served.indexOf('startNumber="');
  const start = Number(/startNumber="(\d+)"/.exec(served.slice(from))![1]);
  const listed = served.slice(from, served.indexOf('</SegmentTimeline>', from)).split('<S ').length - 1;
  const newest = start + listed - 1;
  const file = readFileSync(join(server.dir, `html/live/livestream/video-${newest}.m4s`));
  const mem = await fetch(server.httpUrl(`live/livestream/video-${newest}.m4s`));
  assert.equal(mem.status, 200);
  assert.match(String(mem.headers.get('cache-control')), /^public, max-age=\d+, immutable$/);
  assert.ok(Buffer.from(await mem.arrayBuffer()).equals(file), 'segment bytes as on disk');
});

test('ffprobe and ffmpeg read the live MPD', async () => {
  const r = await probe(server.httpUrl('live/livestream.mpd'), 2);
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(v?.width, 320);
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  const d = await decodeFrames(server.httpUrl('live/livestream.mpd'), 2);
  assert.ok(d.frames >= 40, `decoded ${d.frames}: ${d.stderr.slice(-300)}`);
});
