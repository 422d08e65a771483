/**
 * `sluice proxy` and Debian's `redis-server` as test processes. The proxy
 * binds port 0 everywhere and says its ports in its 'proxy listening' line,
 * so it never races another process for a port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, type LogLine } from './server-process.js';
import { BIND_ATTEMPTS, freePort, waitForPort } from './ports.js';

export interface RunningProxy {
  proc: ChildProcess;
  rtmpPort: number;
  httpPort: number;
  systemPort: number;
  /** The SRT relay's UDP port (0 when off). */
  srtPort: number;
  /** The RTMPS port (0 when off). */
  rtmpsPort: number;
  logs: LogLine[];
  api(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

async function stopProc(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(signal);
  const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

export async function startProxy(env: Record<string, string>): Promise<RunningProxy> {
  const proc = spawn(process.execPath, [CLI, 'proxy'], {
    env: { ...process.env, PROXY_RTMP_SERVER: '127.0.0.1:0', PROXY_HTTP_SERVER: '127.0.0.1:0', PROXY_SYSTEM_API: '127.0.0.1:0', PROXY_SRT_SERVER: '127.0.0.1:0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let buf = '';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-10_000)));
  const listening = new Promise<LogLine>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`proxy exited ${code}: ${stderr}`)));
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const l = JSON.parse(line) as LogLine;
          logs.push(l);
          if (l.msg === 'proxy listening') resolve(l);
        } catch {
          // not a log line
        }
      }
    });
  });
  const l = await listening;
  const systemPort = l['system'] as number;
  return {
    proc,
    rtmpPort: l['rtmp'] as number,
    httpPort: l['http'] as number,
    systemPort,
    srtPort: (l['srt'] as number | null) ?? 0,
    rtmpsPort: (l['rtmps'] as number | null) ?? 0,
    logs,
    async api(path) {
      const r = await fetch(`http://127.0.0.1:${systemPort}${path}`);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    },
    stop: () => stopProc(proc),
  };
}

export interface RunningRedis {
  port: number;
  /** Kills it (SIGKILL: a crash, its data gone) and, with `restart`, starts a fresh one on the same port. */
  crash(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function spawnRedis(port: number, dir: string): ChildProcess {
  return spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function redisUp(proc: ChildProcess, port: number): Promise<boolean> {
  const exited = new Promise<boolean>((r) => proc.once('exit', () => r(false)));
  return Promise.race([waitForPort(port, 10_000).then(() => true), exited]);
}

export async function startRedis(): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let proc = spawnRedis(port, dir);
    proc.stdout!.resume();
    proc.stderr!.resume();
    if (!(await redisUp(proc, port))) {
      if (attempt === BIND_ATTEMPTS) throw new Error('redis-server did not start');
      continue;
    }
    return {
      port,
      crash: () => stopProc(proc, 'SIGKILL'),
      async restart() {
        proc = spawnRedis(port, dir);
        proc.stdout!.resume();
        proc.stderr!.resume();
        if (!(await redisUp(proc, port))) throw new Error(`redis-server did not restart on ${port}`);
      },
      async stop() {
        await stopProc(proc);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
