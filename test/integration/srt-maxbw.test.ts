/**
 * `srt_server.maxbw`: the bytes a player receives (srt-live-transmit, libsrt)
 * stay under the cap, where the same stream uncapped comes much faster. A
 * cap below the stream's rate loses packets, as with libsrt (too-late drop).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

const CAP = 30_000; // bytes/s, far below the test stream's rate (~250 kB/s at 640x360)

const config = (maxbw: number): string => `
listen {{RTMP}};
srs_log_tank console;
srt_server { enabled on; listen {{SRT}}; maxbw ${maxbw}; }
vhost __defaultVhost__ { srt { enabled on; } play { gop_cache off; } }
`;

const running: { server: RunningServer; pub: Proc }[] = [];
after(async () => {
  for (const r of running) {
    await r.pub.stop();
    await r.server.stop();
  }
});

/** Bytes per second srt-live-transmit receives between its 1st and 4th second of data. */
async function playRate(maxbw: number): Promise<number> {
  const server = await startServer({ config: config(maxbw) });
  const pub = publish(server.rtmpUrl('live/bw'), { seconds: 60, size: '640x360', gop: 25 });
  running.push({ server, pub });
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
  const slt = spawn('srt-live-transmit', ['-q', `srt://127.0.0.1:${server.port('SRT')}?streamid=#!::r=live/bw,m=request`, 'file://con'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const marks: { t: number; n: number }[] = [];
  let n = 0;
  slt.stdout.on('data', (d: Buffer) => {
    n += d.length;
    marks.push({ t: Date.now(), n });
  });
  try {
    assert.ok(await waitFor(() => marks.length > 0 && Date.now() - marks[0]!.t > 4000, 30_000, 100), 'player receives for 4 s');
  } finally {
    slt.kill('SIGINT');
  }
  const t0 = marks[0]!.t;
  const at = (ms: number): number => [...marks].reverse().find((m) => m.t - t0 <= ms)?.n ?? 0;
  return (at(4000) - at(1000)) / 3;
}

test('maxbw caps what an SRT player receives; uncapped, the same stream comes faster', async () => {
  const capped = await playRate(CAP);
  const open = await playRate(-1);
  // TS payload only (headers not counted); 10% slack for timing on a busy machine.
  assert.ok(capped <= CAP * 1.1, `capped rate ${Math.round(capped)} B/s over ${CAP}`);
  assert.ok(capped > 0, 'something still flows under the cap');
  assert.ok(open > capped * 2, `uncapped ${Math.round(open)} B/s vs capped ${Math.round(capped)} B/s`);
});
