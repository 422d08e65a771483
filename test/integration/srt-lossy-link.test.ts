/**
 * SRT over a bad network: FFmpeg (libsrt) publishes through a UDP relay in
 * this test that drops, delays and reorders datagrams both ways by a seeded
 * schedule (the kernel here has no netem). With latency 200 ms, the stream
 * watched over RTMP has every video frame: no timestamp gap, and the server
 * recovered losses by retransmission.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { probe, run, type Proc } from '../helpers/ffmpeg.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
srt_server { enabled on; listen {{SRT}}; recvlatency 200; peerlatency 200; }
vhost __defaultVhost__ {
  srt { enabled on; }
  play { gop_cache on; }
}
`;

/** Mulberry32. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One caller behind a relay: `loss` of the datagrams each way vanish, the rest wait 5–35 ms (so they reorder). */
class LossyRelay {
  readonly socket = dgram.createSocket('udp4');
  private readonly upstream = dgram.createSocket('udp4');
  private client: { address: string; port: number } | null = null;
  private readonly rand: () => number;
  dropped = 0;
  forwarded = 0;

  constructor(private readonly target: number, seed: number, private readonly loss: number) {
    this.rand = rng(seed);
  }

  async start(): Promise<number> {
    this.socket.on('message', (m, r) => {
      this.client = { address: r.address, port: r.port };
      this.pass(m, (b) => this.upstream.send(b, this.target, '127.0.0.1'));
    });
    this.upstream.on('message', (m) => {
      const c = this.client;
      if (c) this.pass(m, (b) => this.socket.send(b, c.port, c.address));
    });
    await new Promise<void>((r) => this.upstream.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    return this.socket.address().port;
  }

  private pass(m: Buffer, send: (b: Buffer) => void): void {
    // The handshake goes through untouched: the test is about media recovery.
    const handshake = (m[0]! & 0x80) !== 0 && m.readUInt16BE(0) === 0x8000;
    if (!handshake && this.rand() < this.loss) {
      this.dropped++;
      return;
    }
    this.forwarded++;
    setTimeout(() => {
      if (!this.closed) send(m);
    }, 5 + Math.floor(this.rand() * 30)).unref();
  }

  private closed = false;

  close(): void {
    this.closed = true;
    this.socket.close();
    this.upstream.close();
  }
}

let server: RunningServer;
let relay: LossyRelay;
let pub: Proc;

before(async () => {
  server = await startServer({ config: CONFIG });
  relay = new LossyRelay(server.port('SRT'), 20261202, 0.03);
  const port = await relay.start();
  pub = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '40', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-g', '25', '-b:v', '1M', '-f', 'mpegts', `srt://127.0.0.1:${port}?streamid=#!::r=live/lossy,m=publish&latency=200000`], 70_000);
  await server.waitForLog((l) => l.msg === 'SRT connection accepted', 20_000);
});

after(async () => {
  await pub?.stop();
  relay?.close();
  await server?.stop();
});

test('3% loss each way, 5–35 ms delay with reordering, latency 200 ms: no missing video frame over RTMP', async () => {
  const r = await probe(server.rtmpUrl('live/lossy'), 6);
  const video = r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').map((p) => Number(p.dts_time));
  assert.ok(video.length >= 100, `video packets: ${video.length}`);
  const gaps = video.slice(1).map((t, i) => Math.round((t - video[i]!) * 1000)).filter((d) => d !== 40);
  assert.deepEqual(gaps, [], 'every frame 40 ms after the one before');
  assert.ok(relay.dropped > 20, `the relay dropped ${relay.dropped}`);
  await pub.stop();
  const closed = await server.waitForLog((l) => l.msg === 'srt-publish session closed', 20_000);
  assert.ok(Number(closed['lost']) > 0, 'the server saw losses');
  assert.equal(Number(closed['dropped']), 0, 'and recovered every one in time');
});
