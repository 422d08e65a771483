/**
 * SRT with peers no one here wrote: FFmpeg (libsrt) publishes MPEG-TS with
 * SRS's stream id and is watched over RTMP and HLS; FFmpeg and
 * srt-live-transmit play over SRT (`m=request`), from an SRT publisher and
 * from an RTMP one; a wrong stream id mode and a disabled vhost are refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { probe, publish, run, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { TsDemuxer } from '../../src/format/mpegts-demuxer.js';

const CONFIG = `
listen {{RTMP}};
max_connections 1000;
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
srt_server { enabled on; listen {{SRT}}; }
vhost __defaultVhost__ {
  srt { enabled on; }
  hls { enabled on; hls_fragment 1; hls_window 5; hls_path ./html; }
  play { gop_cache on; queue_length 10; }
}
`;

let server: RunningServer;
let srtPub: Proc;
let rtmpPub: Proc;

function srtUrl(streamid: string, extra = ''): string {
  // Debian's FFmpeg and srt-live-transmit take the stream id as it is (no URL decoding).
  return `srt://127.0.0.1:${server.port('SRT')}?streamid=${streamid}${extra}`;
}

/** ffmpeg publishing testsrc2 + sine as MPEG-TS over SRT. */
function publishSrt(url: string, seconds: number): Proc {
  return run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '25', '-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', url], (seconds + 30) * 1000);
}

before(async () => {
  server = await startServer({ config: CONFIG });
  srtPub = publishSrt(srtUrl('#!::r=live/s,m=publish'), 60);
  rtmpPub = publish(server.rtmpUrl('live/r'), { seconds: 60, gop: 25 });
  await server.waitForLog((l) => l.msg === 'SRT connection accepted', 20_000);
});

after(async () => {
  if (process.env['SRT_TEST_LOGS']) for (const l of server.logs) if (l.level >= 30) console.log(JSON.stringify(l).slice(0, 300));
  await srtPub?.stop();
  await rtmpPub?.stop();
  await server?.stop();
});

test('an SRT publisher is watched over RTMP: h264 + aac, 320x240, frames', async () => {
  const r = await probe(server.rtmpUrl('live/s'), 3);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.equal(r.streams.find((s) => s.codec_type === 'video')?.width, 320);
  assert.equal(r.streams.find((s) => s.codec_type === 'video')?.height, 240);
  assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length >= 40);
});

test('an SRT publisher is watched over HLS', async () => {
  const url = server.httpUrl('live/s.m3u8');
  assert.ok(await waitFor(async () => (await fetch(url)).ok, 20_000, 200), 'playlist appears');
  const r = await probe(url, 2);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length >= 25);
});

test('ffprobe plays an SRT publisher over SRT (m=request)', async () => {
  const r = await probe(srtUrl('#!::r=live/s,m=request'), 3);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.equal(r.streams.find((s) => s.codec_type === 'video')?.width, 320);
  assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length >= 40);
});

test('ffprobe plays an RTMP publisher over SRT (plain stream id)', async () => {
  const r = await probe(srtUrl('live/r'), 3);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length >= 40);
});

test('srt-live-transmit plays over SRT: MPEG-TS with H.264 and AAC PES', async () => {
  const slt = spawn('srt-live-transmit', ['-q', srtUrl('#!::r=live/s,m=request'), 'file://con'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  slt.stdout.on('data', (d: Buffer) => chunks.push(d));
  const enough = await waitFor(() => chunks.reduce((n, c) => n + c.length, 0) > 300_000, 20_000, 50);
  slt.kill('SIGINT');
  await once(slt, 'exit');
  assert.ok(enough, 'srt-live-transmit received 300 KB');
  const bytes = Buffer.concat(chunks);
  const d = new TsDemuxer();
  const pes = d.push(bytes.subarray(bytes.indexOf(0x47)));
  assert.deepEqual([...d.streams.values()].map((s) => s.streamType).sort(), [0x0f, 0x1b]);
  assert.ok(pes.filter((p) => p.streamId === 0xe0).length >= 25);
});

test('srt-live-transmit publishes over SRT (FFmpeg MPEG-TS on its stdin), watched over RTMP', async () => {
  const enc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '30', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-f', 'mpegts', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const slt = spawn('srt-live-transmit', ['-q', 'file://con', srtUrl('#!::r=live/slt,m=publish')], { stdio: ['pipe', 'ignore', 'pipe'] });
  enc.stdout.pipe(slt.stdin);
  try {
    await server.waitForLog((l) => l.msg === 'SRT connection accepted' && String(l['streamid']).includes('live/slt'), 20_000);
    const r = await probe(server.rtmpUrl('live/slt'), 3);
    assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length >= 40);
  } finally {
    enc.kill('SIGKILL');
    slt.kill('SIGINT');
    await Promise.all([once(enc, 'exit'), once(slt, 'exit')]);
  }
});

test('a stream id with an unknown mode is refused', async () => {
  const p = run('ffprobe', ['-v', 'error', srtUrl('#!::r=live/s,m=bogus')], 20_000);
  const code = await p.done;
  assert.notEqual(code, 0);
  // The server's log line comes over a pipe that may lag ffprobe's exit.
  await server.waitForLog((l) => l.msg === 'SRT connection refused', 10_000);
});


test('the API lists the SRT publisher with its link statistics, and kicks it', async () => {
  const res = (await (await fetch(server.apiUrl('/api/v1/clients/'))).json()) as { clients: { id: string; type: string; publish: boolean; tcUrl: string; link?: { packetsReceived: number; rttMs: number } }[] };
  const pub = res.clients.find((c) => c.type === 'srt-publish' && c.tcUrl.endsWith('/live'));
  assert.ok(pub, JSON.stringify(res.clients.map((c) => c.type)));
  assert.equal(pub.publish, true);
  assert.ok(pub.tcUrl.startsWith('srt://'));
  assert.ok((pub.link?.packetsReceived ?? 0) > 100);
  const del = await fetch(server.apiUrl(`/api/v1/clients/${pub.id}`), { method: 'DELETE' });
  assert.equal(del.status, 200);
  await server.waitForLog((l) => l.msg === 'srt-publish session closed' && l.cid === pub.id, 10_000);
});
