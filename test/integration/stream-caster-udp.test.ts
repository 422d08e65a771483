/**
 * `stream_caster { caster mpegts_over_udp; }`: FFmpeg sends MPEG-TS in UDP
 * datagrams, the stream named by `output` is watched over RTMP; H.265 +
 * Opus through a second caster is watched over HTTP-TS.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { probe, run, type Proc } from '../helpers/ffmpeg.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
stream_caster { enabled on; caster mpegts_over_udp; listen {{CASTER}}; output rtmp://127.0.0.1/live/udp; }
stream_caster { enabled on; caster mpegts_over_udp; listen {{CASTER_HEVC}}; output rtmp://127.0.0.1/live/udp265; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  play { gop_cache on; }
}
`;

let server: RunningServer;
let pub: Proc;
let pub265: Proc;

before(async () => {
  server = await startServer({ config: CONFIG });
  pub = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '30', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-g', '25', '-c:a', 'aac', '-f', 'mpegts', `udp://127.0.0.1:${server.port('CASTER')}?pkt_size=1316`], 60_000);
  pub265 = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '30', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-g', '25', '-c:a', 'libopus', '-f', 'mpegts', `udp://127.0.0.1:${server.port('CASTER_HEVC')}?pkt_size=1316`], 60_000);
  await server.waitForLog((l) => l.msg === 'caster publish started' && l['stream'] === 'live/udp', 20_000);
  await server.waitForLog((l) => l.msg === 'caster publish started' && l['stream'] === 'live/udp265', 20_000);
});

after(async () => {
  await pub?.stop();
  await pub265?.stop();
  await server?.stop();
});

test('MPEG-TS over UDP is published to the output stream: h264 + aac over RTMP', async () => {
  const r = await probe(server.rtmpUrl('live/udp'), 3);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.equal(r.streams.find((s) => s.codec_type === 'video')?.width, 320);
  assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length >= 40);
});

test('H.265 + Opus in MPEG-TS over UDP is watched over HTTP-TS: hevc 320x240 + opus', async () => {
  const r = await probe(server.httpUrl('live/udp265.ts'), 3);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['hevc', 'opus']);
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.deepEqual([v?.width, v?.height], [320, 240]);
  assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length >= 40);
});
