/**
 * Starts the real server (`node dist/src/main/cli.js -c FILE`) in a temp dir on
 * fresh ports (started again on others when one was taken), collects its
 * JSON log lines, and stops it (every test cleans up the processes it starts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillPorts, isBindConflict, BIND_ATTEMPTS } from './ports.js';

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
  /** Every port the config's `{{NAME}}` placeholders got, by name (`RTC` is UDP). */
  ports: ReadonlyMap<string, number>;
  /** The port of one placeholder; throws when the config had none of that name. */
  port(name: string): number;
  configFile: string;
  logs: LogLine[];
  rtmpUrl(path: string): string;
  httpUrl(path: string): string;
  apiUrl(path: string): string;
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<number | null>;
  stop(): Promise<void>;
  /** What the process wrote to stderr so far (node's own warnings land there). */
  stderr(): string;
}

export interface ServerOptions {
  /**
   * The config; each `{{NAME}}` (`{{RTMP}}`, `{{HTTP}}`, `{{API}}`, `{{RTC}}` for
   * the WebRTC UDP port, any other name for a TCP port) is replaced by a fresh
   * port. The config must log to the console at info (the start waits for
   * the 'Sluice is listening' line).
   */
  config?: string;
  extraEnv?: Record<string, string>;
  /** Extra command-line arguments (e.g. `--workers 2`). */
  args?: string[];
  /** Options for node itself (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
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

/** How long a start may take before the test fails (a busy machine is slow to load the server). */
const START_TIMEOUT_MS = 30_000;

/**
 * Starts the server on fresh ports. A port picked free can be taken by another
 * process before the server binds it: then the server says EADDRINUSE (or, for
 * the WebRTC UDP port, that it is unavailable) and it is started again on
 * other ports.
 */
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    const { text, ports } = await fillPorts(opts.config ?? BASIC_CONFIG);
    const started = await spawnServer(text, ports, opts);
    if (started !== 'bind-conflict') return started;
    if (attempt === BIND_ATTEMPTS) throw new Error(`server could not bind its ports in ${BIND_ATTEMPTS} attempts`);
  }
}

const isListening = (l: LogLine): boolean => l.msg === 'Sluice is listening';
/**
 * A port we picked was taken before the server bound it. The WebRTC UDP port
 * counts only when it came from `{{RTC}}`: a test that names its own busy
 * port wants the server to run on without it.
 */
const bindFailure =
  (ports: ReadonlyMap<string, number>) =>
  (l: LogLine): boolean =>
    (l.msg === 'cannot start' && isBindConflict(l['err'])) || (ports.has('RTC') && l.msg.startsWith('WebRTC UDP port unavailable'));

async function spawnServer(text: string, ports: Map<string, number>, opts: ServerOptions): Promise<RunningServer | 'bind-conflict'> {
  const isBindFailure = bindFailure(ports);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const configFile = join(dir, 'sluice.conf');
  writeFileSync(configFile, text);
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, '-c', configFile, ...(opts.args ?? [])], {
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
      let l: LogLine;
      try {
        l = JSON.parse(line) as LogLine;
      } catch {
        continue; // not a log line
      }
      logs.push(l);
      for (const w of [...waiters]) if (w.pred(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // Exited once its stdout is read to the end too ('close'), so that the last log lines are in `logs`; a grandchild
  // holding the pipe open cannot delay it more than a moment past 'exit'.
  const exited = new Promise<number | null>((resolve) => {
    proc.once('close', (code) => resolve(code));
    proc.once('exit', (code) => setTimeout(() => resolve(code), 2000).unref());
  });
  const kill = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const found = logs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('log line not seen in time')), timeoutMs);
      // A wait that lost a race (the server exited first) must not hold the test process open.
      t.unref();
      waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
  };

  // Ready is the server's own word that every listener is bound: a port that
  // merely accepts connections may belong to another process.
  let outcome: 'ready' | 'bind-conflict';
  try {
    outcome = await Promise.race([
      waitForLog((l) => isListening(l) || isBindFailure(l), START_TIMEOUT_MS).then((l) => (isBindFailure(l) || logs.some(isBindFailure) ? 'bind-conflict' : 'ready')),
      exited.then((code): 'bind-conflict' => {
        if (/EADDRINUSE/.test(stderr) || logs.some(isBindFailure)) return 'bind-conflict';
        throw new Error(`server exited early (${code}): ${stderr}${logs.map((l) => JSON.stringify(l)).join('\n')}`);
      }),
    ]);
  } catch (err) {
    await kill();
    throw err;
  }
  if (outcome === 'bind-conflict') {
    await kill();
    return outcome;
  }

  const rtmpPort = ports.get('RTMP') ?? 0;
  const httpPort = ports.get('HTTP') ?? 0;
  const apiPort = ports.get('API') ?? 0;
  const server: RunningServer = {
    proc,
    dir,
    rtmpPort,
    httpPort,
    apiPort,
    ports,
    port(name) {
      const p = ports.get(name);
      if (p === undefined) throw new Error(`the config has no {{${name}}} port`);
      return p;
    },
    configFile,
    logs,
    exited,
    rtmpUrl: (p) => `rtmp://127.0.0.1:${rtmpPort}/${p.replace(/^\//, '')}`,
    httpUrl: (p) => `http://127.0.0.1:${httpPort}/${p.replace(/^\//, '')}`,
    apiUrl: (p) => `http://127.0.0.1:${apiPort}/${p.replace(/^\//, '')}`,
    waitForLog,
    signal(sig) {
      proc.kill(sig);
    },
    stop: kill,
    stderr: () => stderr,
  };
  return server;
}
