/**
 * Live remux beyond FLV on the http_remux mount: HTTP-TS, HTTP-AAC,
 * HTTP-MP3, WebSocket-FLV and WebSocket-TS, read by ffprobe and by a
 * WebSocket client whose bytes our demuxers parse.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { probe, publish, run, sleep, type Proc } from '../helpers/ffmpeg.js';
import { FlvDemuxer } from '../../src/format/flv-demuxer.js';
import { TsDemuxer } from '../../src/format/mpegts-demuxer.js';

let server: RunningServer;
let av: Proc;
let mp3: Proc;

before(async () => {
  server = await startServer();
  av = publish(server.rtmpUrl('live/av'), { seconds: 60, gop: 25 });
  mp3 = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '60', '-c:a', 'libmp3lame', '-b:a', '64k', '-ar', '44100', '-f', 'flv', server.rtmpUrl('live/mp3')], 90_000);
  await sleep(2500);
});

after(async () => {
  await av?.stop();
  await mp3?.stop();
  await server?.stop();
});

test('HTTP-TS: H.264 + AAC', async () => {
  const r = await probe(server.httpUrl('live/av.ts'), 3);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.equal(r.streams.find((s) => s.codec_type === 'video')?.width, 320);
  assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length >= 40);
});

test('HTTP-AAC and HTTP-MP3: audio only', async () => {
  const aac = await probe(server.httpUrl('live/av.aac'), 3);
  assert.deepEqual(aac.streams.map((s) => [s.codec_name, s.sample_rate]), [['aac', '44100']]);
  assert.ok(aac.packets.length >= 50);
  const m = await probe(server.httpUrl('live/mp3.mp3'), 3);
  assert.deepEqual(m.streams.map((s) => s.codec_name), ['mp3']);
  assert.ok(m.packets.length >= 30);
});

function collectWs(url: string, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const chunks: Buffer[] = [];
    ws.on('message', (d: Buffer) => chunks.push(d));
    ws.on('error', reject);
    setTimeout(() => {
      ws.close();
      resolve(Buffer.concat(chunks));
    }, ms);
  });
}

test('WebSocket-FLV at the .flv path: an FLV stream with video and audio tags', async () => {
  const bytes = await collectWs(`ws://127.0.0.1:${server.httpPort}/live/av.flv`, 2500);
  assert.equal(bytes.subarray(0, 3).toString(), 'FLV');
  const d = new FlvDemuxer();
  const tags = d.feed(bytes);
  const video = tags.filter((t) => t.type === 9);
  const audio = tags.filter((t) => t.type === 8);
  assert.ok(video.length >= 40, `video tags: ${video.length}`);
  assert.ok(audio.length >= 40, `audio tags: ${audio.length}`);
  for (let i = 1; i < video.length; i++) assert.ok(video[i]!.timestamp >= video[i - 1]!.timestamp);
});

test('WebSocket-TS at the .ts path: PAT/PMT and PES for both tracks', async () => {
  const bytes = await collectWs(`ws://127.0.0.1:${server.httpPort}/live/av.ts`, 2500);
  assert.equal(bytes.length % 188, 0);
  const d = new TsDemuxer();
  const pes = [...d.push(bytes), ...d.flush()];
  assert.deepEqual([...d.streams.values()].map((s) => s.streamType).sort(), [0x0f, 0x1b]);
  assert.ok(pes.filter((p) => p.streamId === 0xe0).length >= 40);
  assert.ok(pes[0]!.randomAccess || pes.some((p) => p.randomAccess));
});

test('a WebSocket upgrade on an unknown path is refused', async () => {
  await assert.rejects(collectWs(`ws://127.0.0.1:${server.httpPort}/nothing/here.txt`, 500));
});
