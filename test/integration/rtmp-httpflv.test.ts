/**
 * The core promise: ffmpeg publishes H.264 + AAC over RTMP; ffmpeg/ffprobe
 * play it back over RTMP and HTTP-FLV at the same time, with the codecs,
 * resolution, frame counts and monotonic timestamps a user would check.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, decodeFrames, monotonicDts, sleep, type Proc } from '../helpers/ffmpeg.js';

let server: RunningServer;
let publisher: Proc;

before(async () => {
  server = await startServer();
  publisher = publish(server.rtmpUrl('live/livestream'), { seconds: 40, size: '320x240', fps: 25, gop: 50 });
  await server.waitForLog((l) => l.msg === 'publish started', 15_000);
  await sleep(2500);
});

after(async () => {
  await publisher?.stop();
  await server?.stop();
});

test('RTMP play: H.264 320x240 + AAC, monotonic timestamps', async () => {
  const r = await probe(server.rtmpUrl('live/livestream'), 3);
  const video = r.streams.find((s) => s.codec_type === 'video');
  const audio = r.streams.find((s) => s.codec_type === 'audio');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 320);
  assert.equal(video?.height, 240);
  assert.equal(audio?.codec_name, 'aac');
  assert.equal(audio?.sample_rate, '44100');
  const vpk = r.packets.filter((p) => p.stream_index === r.streams.indexOf(video!));
  assert.ok(vpk.length >= 50, `expected >= 50 video packets in 3 s, got ${vpk.length}`);
  assert.ok(vpk[0]!.flags.startsWith('K'), 'the first video packet is a keyframe (GOP cache)');
  const mono = monotonicDts(r.packets);
  assert.ok(mono.ok, mono.detail);
});

test('HTTP-FLV play: H.264 + AAC, monotonic timestamps', async () => {
  const r = await probe(server.httpUrl('live/livestream.flv'), 3);
  const video = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 320);
  assert.equal(video?.height, 240);
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  const mono = monotonicDts(r.packets);
  assert.ok(mono.ok, mono.detail);
});

test('RTMP and HTTP-FLV players decode frames from one source at once', async () => {
  const [rtmp, flv] = await Promise.all([
    decodeFrames(server.rtmpUrl('live/livestream'), 3),
    decodeFrames(server.httpUrl('live/livestream.flv'), 3),
  ]);
  // 3 s at 25 fps; the GOP cache adds up to a GOP at the start.
  assert.ok(rtmp.frames >= 60, `RTMP decoded ${rtmp.frames} frames: ${rtmp.stderr.slice(-500)}`);
  assert.ok(flv.frames >= 60, `HTTP-FLV decoded ${flv.frames} frames: ${flv.stderr.slice(-500)}`);
  assert.doesNotMatch(rtmp.stderr, /non-existing PPS|no frame!/);
});

test('HTTP-FLV answers with CORS headers and video/x-flv', async () => {
  const ac = new AbortController();
  const res = await fetch(server.httpUrl('live/livestream.flv'), { headers: { Origin: 'http://example.com' }, signal: ac.signal });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'video/x-flv');
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.equal(Buffer.from(first.value!).subarray(0, 3).toString(), 'FLV');
  ac.abort();
});

test('a second publisher of a live stream is refused and the first goes on', async () => {
  const second = publish(server.rtmpUrl('live/livestream'), { seconds: 5 });
  const code = await second.done;
  assert.notEqual(code, 0, 'the second ffmpeg publisher must fail');
  // What the second publisher is told (NetStream.Publish.BadName's description, printed by ffmpeg).
  assert.match(second.stderr(), /Server error: Stream is already publishing\./, second.stderr());
  const r = await decodeFrames(server.rtmpUrl('live/livestream'), 2);
  assert.ok(r.frames >= 40, `the first publisher still plays: ${r.frames} frames`);
});

test('unknown streams over HTTP-FLV wait; other paths are 404', async () => {
  const res = await fetch(server.httpUrl('live/a/b/c.flv'));
  assert.equal(res.status, 404);
  const res2 = await fetch(server.httpUrl('nothing.txt'));
  assert.equal(res2.status, 404);
});

test('API lists the stream with its codecs', async () => {
  const res = await fetch(server.apiUrl('api/v1/streams/'));
  const body = (await res.json()) as { code: number; streams: { url: string; publish: { active: boolean }; video: { codec: string } | null }[] };
  assert.equal(body.code, 0);
  const s = body.streams.find((x) => x.url === '/live/livestream');
  assert.ok(s, 'stream listed');
  assert.equal(s.publish.active, true);
  assert.equal(s.video?.codec, 'H264');
});
