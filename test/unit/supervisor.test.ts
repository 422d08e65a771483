/**
 * The child supervisor with real short-lived processes: a stop that reaps
 * (no zombie), SIGKILL after an ignored SIGTERM, a stop that reaches the
 * child's own children, backoff that grows to its cap, and a
 * command that does not exist.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRegistry, SupervisedProcess, type SupervisedOptions } from '../../src/ffmpeg/child-supervisor.js';
import { silentLogger } from '../../src/log/logger.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-supervisor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Gone, or a zombie that is not ours to reap (a grandchild handed to init). */
function gone(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    const fields = readFileSync(stat, 'utf8').replace(/^.*\) /, '').split(' ');
    return fields[0] === 'Z' && Number(fields[1]) !== process.pid;
  } catch {
    return true;
  }
}

function opts(argv: string[], over: Partial<SupervisedOptions> = {}): SupervisedOptions {
  return { kind: 'test', label: 'unit', argv, logFile: null, restart: null, log: silentLogger(), ...over };
}

describe('SupervisedProcess', () => {
  test('runs, reports running with a pid, and a stop reaps it (no zombie)', async () => {
    const logFile = join(dir, 'sleep.log');
    const p = new SupervisedProcess(opts(['sh', '-c', 'echo hello; exec sleep 30'], { logFile }));
    p.start();
    assert.ok(await waitFor(() => p.state === 'running'), p.state);
    const pid = p.pid!;
    assert.ok(pid > 0);
    assert.ok(await waitFor(() => readFileSync(logFile, 'utf8').includes('\nhello\n')), 'stdout goes to the log file');
    assert.match(readFileSync(logFile, 'utf8'), /test unit: sh -c/);
    await p.stop();
    assert.equal(p.state, 'stopped');
    assert.equal(p.pid, null);
    assert.ok(gone(pid), `pid ${pid} left behind`);
  });

  test('a child that ignores SIGTERM is killed after the grace period', async () => {
    const logFile = join(dir, 'stubborn.log');
    // The markers are printed in upper case so that the log's header line (the command) does not match them.
    const script = "process.on('SIGTERM', () => console.log('IGNORED')); console.log('READY'); setInterval(() => {}, 1000);";
    const p = new SupervisedProcess(opts([process.execPath, '-e', script], { logFile, killGraceMs: 300 }));
    p.start();
    assert.ok(await waitFor(() => readFileSync(logFile, 'utf8').includes('READY\n'), 20_000), 'child ready');
    const pid = p.pid!;
    const t0 = Date.now();
    await p.stop();
    assert.ok(Date.now() - t0 >= 280, 'waited for the grace period');
    assert.ok(readFileSync(logFile, 'utf8').includes('IGNORED\n'), 'SIGTERM came first');
    assert.ok(gone(pid));
  });

  test('a stop reaches what the child forked (its process group)', async () => {
    const logFile = join(dir, 'group.log');
    const p = new SupervisedProcess(opts(['sh', '-c', 'sleep 30 & echo "child $!"; wait'], { logFile }));
    p.start();
    let grandchild = 0;
    assert.ok(
      await waitFor(() => {
        const m = /child (\d+)/.exec(readFileSync(logFile, 'utf8'));
        grandchild = m ? Number(m[1]) : 0;
        return grandchild > 0;
      }),
    );
    const pid = p.pid!;
    await p.stop();
    assert.ok(gone(pid));
    assert.ok(await waitFor(() => gone(grandchild), 5000), `grandchild ${grandchild} left behind`);
  });

  test('a child that exits at once is restarted with a growing, capped backoff', async () => {
    const logFile = join(dir, 'crash.log');
    const p = new SupervisedProcess(opts(['sh', '-c', 'exit 3'], { logFile, restart: { initialMs: 50, maxMs: 400, stableMs: 60_000 } }));
    p.start();
    assert.ok(await waitFor(() => p.restarts >= 5, 20_000), `restarts ${p.restarts}`);
    assert.ok(['backoff', 'starting', 'running'].includes(p.state));
    await p.stop();
    assert.equal(p.state, 'stopped');
    const starts = [...readFileSync(logFile, 'utf8').matchAll(/^\[([^\]]+)\]/gm)].map((m) => Date.parse(m[1]!));
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // A busy machine only lengthens the waits: each is at least its scheduled backoff, the 4th reaches the cap.
    [50, 100, 200, 400, 400].forEach((min, i) => assert.ok(gaps[i]! >= min - 5, `gap ${i} = ${gaps[i]} < ${min} (${gaps.join(',')})`));
  });

  test('a command that does not exist ends in backoff/stopped, no throw', async () => {
    const p = new SupervisedProcess(opts(['/nonexistent/sluice-cmd'], { restart: null }));
    p.start();
    assert.ok(await waitFor(() => p.state === 'stopped'));
    const bad = new SupervisedProcess(opts(['sh', '-c', 'a\0b']));
    bad.start();
    assert.equal(bad.state, 'stopped');
    await p.stop();
  });
});

describe('ProcessRegistry', () => {
  test('lists its children and stopAll leaves none', async () => {
    const reg = new ProcessRegistry();
    const a = reg.start(opts(['sleep', '30'], { kind: 'exec', label: '/live/a' }));
    reg.start(opts(['sleep', '30'], { kind: 'exec', label: '/live/b' }));
    assert.ok(await waitFor(() => reg.list().every((i) => i.state === 'running')));
    const list = reg.list();
    assert.equal(list.length, 2);
    assert.deepEqual(
      list.map((i) => [i.kind, i.label, i.command, i.restarts]),
      [
        ['exec', '/live/a', 'sleep 30', 0],
        ['exec', '/live/b', 'sleep 30', 0],
      ],
    );
    const pids = list.map((i) => i.pid!);
    await reg.stop(a);
    assert.equal(reg.list().length, 1);
    await reg.stopAll();
    assert.equal(reg.list().length, 0);
    for (const pid of pids) assert.ok(gone(pid));
  });
});

describe('exporter figures of supervised children', () => {
  test('sluice_processes by kind and state; restarts keep counting after a child is forgotten', async () => {
    const { Registry } = await import('prom-client');
    const { registerProcessMetrics } = await import('../../src/main/process-metrics.js');
    const registry = new Registry();
    const procs = new ProcessRegistry();
    registerProcessMetrics(registry, procs);
    const restart = { initialMs: 20, maxMs: 40, stableMs: 60_000 };
    const flapping = procs.start(opts(['sh', '-c', 'exit 3'], { kind: 'exec', restart }));
    const steady = procs.start(opts(['sleep', '30'], { kind: 'exec' }));
    assert.ok(await waitFor(() => flapping.restarts >= 2 && steady.state === 'running', 20_000), `restarts ${flapping.restarts}`);
    const text = await registry.metrics();
    // The flapping child is 'running' for the moment between its spawn and its exit, so the
    // sample sees it in any live state; the steady one is always running.
    const gauge = (t: string, state: string): number => Number(new RegExp(`sluice_processes\\{kind="exec",state="${state}"\\} (\\d+)`).exec(t)![1]);
    assert.ok(gauge(text, 'running') >= 1, text);
    assert.equal(gauge(text, 'starting') + gauge(text, 'running') + gauge(text, 'backoff'), 2, text);
    assert.equal(gauge(text, 'stopped'), 0, text);
    const restarts = (t: string): number => Number(/sluice_process_restarts_total (\d+)/.exec(t)![1]);
    const before = restarts(text);
    assert.ok(before >= 2, text);
    await procs.stop(flapping);
    const after = await registry.metrics();
    assert.ok(restarts(after) >= before, 'the total does not fall when a child leaves the list');
    assert.match(after, /sluice_processes\{kind="exec",state="backoff"\} 0/);
    await procs.stopAll();
  });
});
