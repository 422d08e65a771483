/**
 * H.265 and Opus in MPEG-TS: FFmpeg (libx265 + libopus) publishes over SRT
 * and is watched over SRT (`m=request`), HTTP-TS and HLS. An Enhanced-RTMP
 * HEVC publisher (our RTMP client, sending FFmpeg's libx265 frames: Debian's
 * FFmpeg 5.1 cannot put HEVC in FLV) is played over SRT too. FFmpeg 5.1
 * reads neither HEVC nor Opus in FLV, so the TS outputs are what ffprobe checks.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { decodeFrames, monotonicDts, probe, run, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { RtmpSocketClient } from '../helpers/rtmp-socket-client.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsDemuxer } from '../../src/format/mpegts-demuxer.js';
import { TsFrameReader } from '../../src/format/mpegts-frames.js';
import { flvBodyFromFrame } from '../../src/format/flv-frame.js';
import type { MediaFrame } from '../../src/codec/media-frame.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
srt_server { enabled on; listen {{SRT}}; }
vhost __defaultVhost__ {
  srt { enabled on; }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  hls { enabled on; hls_fragment 1; hls_window 5; hls_path ./html; hls_vcodec h265; hls_acodec an; }
  play { gop_cache on; queue_length 10; }
}
`;

let server: RunningServer;
let pub: Proc;

function srtUrl(streamid: string): string {
  return `srt://127.0.0.1:${server.port('SRT')}?streamid=${streamid}`;
}

before(async () => {
  server = await startServer({ config: CONFIG });
  pub = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-ac', '2', '-t', '60', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-g', '25', '-c:a', 'libopus', '-b:a', '64k', '-f', 'mpegts', srtUrl('#!::r=live/hevc,m=publish')], 90_000);
  await server.waitForLog((l) => l.msg === 'SRT connection accepted', 20_000);
});

after(async () => {
  await pub?.stop();
  await server?.stop();
});

function videoPackets(r: Awaited<ReturnType<typeof probe>>): number {
  return r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length;
}

test('an H.265 + Opus SRT publisher is played over SRT: hevc 320x240 + opus stereo, frames, monotonic dts', async () => {
  const r = await probe(srtUrl('#!::r=live/hevc,m=request'), 3);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['hevc', 'opus']);
  const v = r.streams.find((s) => s.codec_type === 'video')!;
  assert.deepEqual([v.width, v.height], [320, 240]);
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.channels, 2);
  assert.ok(videoPackets(r) >= 40, `video packets ${videoPackets(r)}`);
  assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'audio').length >= 80, 'opus packets (20 ms each)');
  const m = monotonicDts(r.packets);
  assert.ok(m.ok, m.detail);
});

test('the H.265 SRT publisher decodes over SRT with no decoder errors', async () => {
  const d = await decodeFrames(srtUrl('#!::r=live/hevc,m=request'), 3);
  assert.equal(d.code, 0, d.stderr.slice(-2000));
  assert.ok(d.frames >= 50, `frames decoded ${d.frames}`);
  assert.doesNotMatch(d.stderr, /Error while decoding|Invalid data/);
});

test('the H.265 + Opus SRT publisher is played over HTTP-TS', async () => {
  const r = await probe(server.httpUrl('live/hevc.ts'), 3);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['hevc', 'opus']);
  assert.ok(videoPackets(r) >= 40);
});

test('the H.265 SRT publisher is watched over HLS (hevc segments)', async () => {
  const url = server.httpUrl('live/hevc.m3u8');
  assert.ok(await waitFor(async () => (await fetch(url)).ok, 20_000, 200), 'playlist appears');
  const r = await probe(url, 2);
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(v?.codec_name, 'hevc');
  assert.deepEqual([v?.width, v?.height], [320, 240]);
  assert.ok(videoPackets(r) >= 25);
});

test('an Enhanced-RTMP HEVC publisher is played over SRT: hevc 256x144, frames decoded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hevc-'));
  const file = join(dir, 'hevc.ts');
  try {
    const enc = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=256x144:rate=25', '-t', '12', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-g', '25', '-f', 'mpegts', file], 60_000);
    assert.equal(await enc.done, 0, enc.stderr());
    const d = new TsDemuxer();
    const r = new TsFrameReader();
    const frames: MediaFrame[] = [...d.push(readFileSync(file)), ...d.flush()].flatMap((p) => r.read(p));
    assert.equal(frames[0]?.header, true);
    const pub = await RtmpSocketClient.connect(server.port('RTMP'), 'live');
    assert.equal(await pub.publish('erhevc'), 'NetStream.Publish.Start');
    // Paced as a live encoder would: each frame at its dts after the start.
    let stop = false;
    const start = Date.now();
    const sending = (async () => {
      for (const f of frames) {
        if (stop) break;
        const wait = f.dts - (Date.now() - start);
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
        pub.sendMedia(9, f.dts, flvBodyFromFrame(f));
      }
    })();
    try {
      const p = await probe(srtUrl('#!::r=live/erhevc,m=request'), 3);
      const v = p.streams.find((s) => s.codec_type === 'video');
      assert.equal(v?.codec_name, 'hevc');
      assert.deepEqual([v?.width, v?.height], [256, 144]);
      const dec = await decodeFrames(srtUrl('#!::r=live/erhevc,m=request'), 2);
      assert.equal(dec.code, 0, dec.stderr.slice(-2000));
      assert.ok(dec.frames >= 30, `frames decoded ${dec.frames}`);
    } finally {
      stop = true;
      await sending;
      await pub.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
