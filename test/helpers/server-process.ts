/**
 * Starts the real server (`node dist/src/main/cli.js -c FILE`) in a temp dir on
 * free ports, collects its JSON log lines, and stops it (every test cleans up
 * the processes it starts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './ports.js';

/** The repository (this file runs from dist/test/helpers/). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(REPO_ROOT, 'dist', 'src', 'main', 'cli.js');

export interface LogLine {
  level: number;
  msg: string;
  cid?: string;
  stream?: string;
  [k: string]: unknown;
}

export interface RunningServer {
  proc: ChildProcess;
  dir: string;
  rtmpPort: number;
  httpPort: number;
  apiPort: number;
  configFile: string;
  logs: LogLine[];
  rtmpUrl(path: string): string;
  httpUrl(path: string): string;
  apiUrl(path: string): string;
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** The config body without the listen directives; `{{RTMP}}`, `{{HTTP}}`, `{{API}}` are replaced by ports. */
  config?: string;
  extraEnv?: Record<string, string>;
  /** Extra command-line arguments (e.g. `--workers 2`). */
  args?: string[];
}

export const BASIC_CONFIG = `
listen {{RTMP}};
max_connections 1000;
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  play { gop_cache on; queue_length 10; mw_latency 100; }
}
`;

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const apiPort = await freePort();
  const text = (opts.config ?? BASIC_CONFIG)
    .replaceAll('{{RTMP}}', String(rtmpPort))
    .replaceAll('{{HTTP}}', String(httpPort))
    .replaceAll('{{API}}', String(apiPort));
  const configFile = join(dir, 'sluice.conf');
  writeFileSync(configFile, text);
  const proc = spawn(process.execPath, [CLI, '-c', configFile, ...(opts.args ?? [])], {
    cwd: dir,
    env: { ...process.env, ...opts.extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const l = JSON.parse(line) as LogLine;
        logs.push(l);
        for (const w of [...waiters]) if (w.pred(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      } catch {
        /* not a log line */
      }
    }
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  try {
    await Promise.race([
      waitForPort(rtmpPort),
      exited.then((code) => {
        throw new Error(`server exited early (${code}): ${stderr}`);
      }),
    ]);
  } catch (err) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const server: RunningServer = {
    proc,
    dir,
    rtmpPort,
    httpPort,
    apiPort,
    configFile,
    logs,
    exited,
    rtmpUrl: (p) => `rtmp://127.0.0.1:${rtmpPort}/${p.replace(/^\//, '')}`,
    httpUrl: (p) => `http://127.0.0.1:${httpPort}/${p.replace(/^\//, '')}`,
    apiUrl: (p) => `http://127.0.0.1:${apiPort}/${p.replace(/^\//, '')}`,
    waitForLog(pred, timeoutMs = 10_000) {
      const found = logs.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('log line not seen in time')), timeoutMs);
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
    signal(sig) {
      proc.kill(sig);
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
