/**
 * Realtime mode (`min_latency on`): every frame goes to every player as it
 * arrives, written by the native TCP writer in one call per turn. ffprobe
 * players over RTMP and HTTP-FLV get the stream whole (codecs, packets,
 * monotonic timestamps), the API says the native writer carried it, and a
 * player's byte count matches what it read.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, monotonicDts, type Proc } from '../helpers/ffmpeg.js';
import { RtmpSocketClient } from '../helpers/rtmp-socket-client.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  min_latency on;
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  play { gop_cache on; queue_length 10; mw_latency 0; }
}
`;

let server: RunningServer;
let publisher: Proc;

before(async () => {
  server = await startServer({ config: CONFIG });
  publisher = publish(server.rtmpUrl('live/livestream'), { seconds: 40, size: '320x240', fps: 25, gop: 50 });
  await server.waitForLog((l) => l.msg === 'publish started', 15_000);
});

after(async () => {
  await publisher?.stop();
  await server?.stop();
});

interface Summaries {
  data: { sluice: { stream_writes: string; stream_direct_writes: number } };
}

test('realtime players over RTMP and HTTP-FLV at once get the whole stream, written by the native writer', async () => {
  const started = server.logs.find((l) => l.msg === 'Sluice is listening');
  assert.equal(started?.['streamWrites'], 'native', 'the start line says how stream bytes are written');
  const [a, b, flv] = await Promise.all([
    probe(server.rtmpUrl('live/livestream'), 4),
    probe(server.rtmpUrl('live/livestream'), 4),
    probe(server.httpUrl('live/livestream.flv'), 4),
  ]);
  for (const [name, r] of [
    ['RTMP 1', a],
    ['RTMP 2', b],
    ['HTTP-FLV', flv],
  ] as const) {
    const video = r.streams.find((s) => s.codec_type === 'video');
    assert.equal(video?.codec_name, 'h264', name);
    assert.equal(video?.width, 320, name);
    assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac', name);
    const vpk = r.packets.filter((p) => p.stream_index === r.streams.indexOf(video!));
    assert.ok(vpk.length >= 60, `${name}: ${vpk.length} video packets in 4 s`);
    const mono = monotonicDts(r.packets);
    assert.ok(mono.ok, `${name}: ${mono.detail}`);
  }
  const s = (await (await fetch(server.apiUrl('api/v1/summaries'))).json()) as Summaries;
  assert.equal(s.data.sluice.stream_writes, 'native');
  assert.ok(s.data.sluice.stream_direct_writes > 100, `native writes: ${s.data.sluice.stream_direct_writes}`);
});

test("a player's send_bytes counts what the native writer sent, once", async () => {
  const client = await RtmpSocketClient.connect(server.rtmpPort, 'live');
  let media = 0;
  client.onEvent = (e) => {
    if (e.type === 'media') media++;
  };
  try {
    assert.equal(await client.play('livestream'), 'NetStream.Play.Start');
    const sent = async (): Promise<number> => {
      const body = (await (await fetch(server.apiUrl('api/v1/clients/?count=100'))).json()) as { clients: { type: string; send_bytes: number }[] };
      return Math.max(0, ...body.clients.filter((c) => c.type === 'rtmp-play').map((c) => c.send_bytes));
    };
    // The API samples counters every few seconds; wait for a sample with the stream in it.
    assert.ok(await waitFor(async () => (await sent()) > 100_000, 30_000, 500), 'the player has been sent the stream');
    const apiSent = await sent();
    const read = client.socket.bytesRead;
    assert.ok(media > 50, `media messages read: ${media}`);
    assert.ok(apiSent <= read + 256 * 1024, `sent ${apiSent} bytes by the API's count, the player read ${read}: not counted twice`);
  } finally {
    await client.close();
  }
});
