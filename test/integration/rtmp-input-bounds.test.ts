/**
 * Unauthenticated memory amplification (issue 11 item 2): ten RTMP connects
 * with 15 MB tcUrls. Each ends after its first chunk with one short log
 * line, the server's RSS stays within a bound, and a player watching at the
 * same time keeps decoding.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { decodeFrames, publish, type Proc } from '../helpers/ffmpeg.js';
import { RtmpSocketClient } from '../helpers/rtmp-socket-client.js';

let server: RunningServer;
let publisher: Proc;

before(async () => {
  server = await startServer();
  publisher = publish(server.rtmpUrl('live/bounds'), { seconds: 60, size: '160x120', fps: 25, gop: 25 });
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
});

after(async () => {
  await publisher?.stop();
  await server?.stop();
});

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

test('ten connects with 15 MB tcUrls are refused cheaply; a concurrent player keeps decoding', { timeout: 120_000 }, async () => {
  const pid = server.proc.pid!;
  const player = decodeFrames(server.rtmpUrl('live/bounds'), 12);
  await server.waitForLog((l) => l.msg === 'play started', 20_000);

  const base = rssMb(pid);
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  const tcUrl = `rtmp://127.0.0.1:${server.rtmpPort}/live?${'a'.repeat(15 * 1024 * 1024)}`;
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => RtmpSocketClient.connect(server.rtmpPort, 'live', tcUrl)));
  clearInterval(sampler);
  peak = Math.max(peak, rssMb(pid));

  // What the attacker sees: the connection ends, no connect result.
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    if (r.status === 'rejected') assert.match(String(r.reason), /connection closed|ECONNRESET|EPIPE/);
  }
  // Before the fix: 352 MB → 1.71 GB. The bound is generous for a busy machine.
  assert.ok(peak - base < 100, `server RSS went from ${base.toFixed(0)} to ${peak.toFixed(0)} MB`);

  const isRefusal = (l: { msg: string }): boolean => l.msg === 'RTMP protocol error, closing connection';
  await server.waitForLog(() => server.logs.filter(isRefusal).length >= 10, 10_000).catch(() => undefined);
  const refusals = server.logs.filter(isRefusal);
  assert.equal(refusals.length, 10, 'one refusal line per connect');
  assert.match(String(refusals[0]!['err']), /exceeds limit 65536/);
  for (const l of server.logs) assert.ok(JSON.stringify(l).length < 2000, `a log line of ${JSON.stringify(l).length} bytes: ${JSON.stringify(l).slice(0, 200)}`);

  const r = await player;
  assert.ok(r.frames >= 150, `the player decoded ${r.frames} frames in 12 s: ${r.stderr.slice(-400)}`);
});
