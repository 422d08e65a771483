/**
 * Smoke run of the load generator against the real server: a short
 * workload, 20 RTMP and 20 HTTP-FLV players for 5 s each behind the bench's
 * own publisher, and the latency probe. Asserts that every player received
 * video and that stamps came through; figures are never asserted here
 * (they live in docs/BENCHMARKS.md).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import type { PlayRunResult } from '../../bench/play-run.js';
import type { LatencyRunResult } from '../../bench/latency-run.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BENCH = join(ROOT, 'dist', 'bench', 'cli.js');

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${args[1] ?? cmd} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function bench<T>(args: string[]): Promise<T> {
  const out = await run(process.execPath, [BENCH, ...args, '--json'], 60_000);
  return JSON.parse(out.trim().split('\n').pop() as string) as T;
}

describe('bench smoke run', () => {
  let server: RunningServer;
  let dir: string;
  let workload: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    workload = join(dir, 'workload.flv');
    await run('bash', [join(ROOT, 'scripts', 'bench-make-workload.sh'), workload, '6'], 60_000);
    server = await startServer();
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const proto of ['rtmp', 'flv'] as const) {
    test(`20 ${proto} players for 5 s all receive video`, async () => {
      const stream = `bench-${proto}`;
      const url = proto === 'rtmp' ? server.rtmpUrl(`live/${stream}`) : server.httpUrl(`live/${stream}.flv`);
      const r = await bench<PlayRunResult>([
        `${proto}-play`,
        '--url', url,
        '--publish-url', server.rtmpUrl(`live/${stream}`),
        '--file', workload,
        '--players', '20',
        '--rate', '100',
        '--duration', '5',
        '--settle', '1',
        '--pid', String(server.proc.pid),
      ]);
      assert.equal(r.players, 20);
      assert.equal(r.withVideo, 20, `players without video; errors: ${JSON.stringify(r.errors)}`);
      assert.equal(r.connected, 20);
      assert.deepEqual(r.errors, {});
      assert.ok(r.judged > 0 && r.kbpsMedian > 0, 'bytes were counted');
    });
  }

  for (const proto of ['rtmp', 'flv'] as const) {
    test(`20 continuous ${proto} players parse every frame for 5 s`, async () => {
      const stream = `bench-cont-${proto}`;
      const url = proto === 'rtmp' ? server.rtmpUrl(`live/${stream}`) : server.httpUrl(`live/${stream}.flv`);
      const r = await bench<PlayRunResult>([
        `${proto}-play`,
        '--url', url,
        '--publish-url', server.rtmpUrl(`live/${stream}`),
        '--file', workload,
        '--players', '20',
        '--rate', '100',
        '--duration', '6',
        '--settle', '1',
        '--player', 'continuous',
        '--pid', String(server.proc.pid),
      ]);
      assert.equal(r.player, 'continuous');
      assert.equal(r.withVideo, 20, `players without video; errors: ${JSON.stringify(r.errors)}`);
      assert.deepEqual(r.errors, {});
      // The workload is 25 fps video and ~43 AAC frames/s: every player parsed (not skimmed)
      // close to that many coded frames per second through the steady window.
      assert.ok(r.parsedVideoPerSecMin >= 20, `slowest player parsed ${r.parsedVideoPerSecMin} video frames/s`);
      assert.ok(r.audioPerSecMin >= 35, `slowest player got ${r.audioPerSecMin} audio messages/s`);
      assert.ok(r.keyframes >= 20, `keyframes parsed: ${r.keyframes}`);
      assert.equal(r.timestampRegressions, 0);
    });
  }

  test('the latency probe reads stamps through the server', async () => {
    const r = await bench<LatencyRunResult>([
      'latency',
      '--url', server.rtmpUrl('live/bench-probe'),
      '--play-url', server.httpUrl('live/bench-probe.flv'),
      '--file', workload,
      '--duration', '4',
      '--skip', '1',
    ]);
    assert.equal(r.error, null);
    assert.ok(r.samples > 0, 'stamped frames arrived');
  });
});
