/**
 * The servers of a side-by-side run, each started fresh on free loopback
 * ports and pinned to core 0 with taskset: Sluice (merge-write like SRS's
 * `mw_latency 350`, realtime `min_latency on`, or realtime with Nagle), node-media-server (npm,
 * installed by scripts/bench-peers.sh into bench/.peers) and nginx with
 * Debian's libnginx-mod-rtmp (no HTTP-FLV).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from './bench-error.js';
import { sleep } from './run-clock.js';

/**
 * `sluice-base` is another build of Sluice (its cli.js in SLUICE_BASE_CLI), run as sluice-mw, or as
 * sluice-rt when SLUICE_BASE_MODE=rt (sluice-rtn with rtn): before/after rows in one run.
 */
export type PeerName = 'sluice-mw' | 'sluice-rt' | 'sluice-rtn' | 'sluice-base' | 'nms' | 'nginx';

/** How a Sluice row plays: merge-write, realtime (TCP_NODELAY, as SRS's realtime.conf), realtime with Nagle (as nginx-rtmp, which never sets TCP_NODELAY). */
type SluiceMode = 'mw' | 'rt' | 'rtn';

/** Core the server runs on, and the core for the load generator and probe. */
const SERVER_CPU = '0';
export const LOAD_CPU = '1';

export const NMS_VERSION = '4.4.3';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SLUICE_CLI = join(ROOT, 'dist', 'src', 'main', 'cli.js');
const NMS_APP = join(ROOT, 'bench', '.peers', 'node_modules', 'node-media-server', 'bin', 'app.js');
const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export interface RunningPeer {
  name: PeerName;
  /** The process we started (node, or the nginx master: its workers are its children). */
  pid: number;
  rtmpPort: number;
  /** null when the server has no HTTP-FLV. */
  httpPort: number | null;
  rtmpUrl(stream: string): string;
  flvUrl(stream: string): string | null;
  /** The server's own output so far (stdout and stderr). */
  readLog(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, proc: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new BenchError(`server exited early (${proc.exitCode ?? proc.signalCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new BenchError(`server did not listen on ${port} within ${timeoutMs} ms`);
}

function sluiceConfig(mode: SluiceMode, rtmp: number, http: number): string {
  const play = mode === 'mw' ? 'gop_cache on; queue_length 10; mw_latency 350;' : 'gop_cache on; queue_length 10; mw_latency 0;';
  return `listen ${rtmp};
max_connections 20000;
daemon off;
srs_log_tank console;
srs_log_level_v2 warn;
http_server { enabled on; listen ${http}; dir ./html; }
vhost __defaultVhost__ {
  ${mode === 'rt' ? 'min_latency on; tcp_nodelay on;' : ''}
  play { ${play} }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
}
`;
}

function nmsConfig(dir: string, rtmp: number, http: number): string {
  return JSON.stringify({ bind: '127.0.0.1', rtmp: { port: rtmp }, http: { port: http }, webadmin: { enable: false }, store: { path: join(dir, 'data') } }, null, 2);
}

function nginxConfig(dir: string, rtmp: number): string {
  return `load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 30000;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 20000; }
rtmp {
  access_log off;
  server {
    listen 127.0.0.1:${rtmp};
    chunk_size 4096;
    application live { live on; }
  }
}
`;
}

/** Whether a peer can run on this machine, or why not. */
export function peerMissing(name: PeerName): string | null {
  if (name === 'nms' && !existsSync(NMS_APP)) return 'node-media-server is not installed (run scripts/bench-peers.sh)';
  if (name === 'nginx' && !existsSync(NGINX_RTMP_MODULE)) return 'nginx with libnginx-mod-rtmp is not installed (run scripts/bench-peers.sh)';
  if ((name === 'sluice-mw' || name === 'sluice-rt' || name === 'sluice-rtn') && !existsSync(SLUICE_CLI)) return 'Sluice is not built (npm run build)';
  if (name === 'sluice-base' && !existsSync(process.env['SLUICE_BASE_CLI'] ?? '')) return 'set SLUICE_BASE_CLI to the dist/src/.../cli.js of the build to compare with';
  return null;
}

export async function startPeer(name: PeerName): Promise<RunningPeer> {
  const missing = peerMissing(name);
  if (missing) throw new BenchError(missing);
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const rtmpPort = await freePort();
  const httpPort = name === 'nginx' ? null : await freePort();
  let cmd: string[];
  if (name === 'sluice-mw' || name === 'sluice-rt' || name === 'sluice-rtn' || name === 'sluice-base') {
    const baseMode = process.env['SLUICE_BASE_MODE'];
    const mode: SluiceMode = name === 'sluice-base' ? (baseMode === 'rt' || baseMode === 'rtn' ? baseMode : 'mw') : name === 'sluice-rt' ? 'rt' : name === 'sluice-rtn' ? 'rtn' : 'mw';
    writeFileSync(join(dir, 'sluice.conf'), sluiceConfig(mode, rtmpPort, httpPort as number));
    cmd = [process.execPath, name === 'sluice-base' ? process.env['SLUICE_BASE_CLI']! : SLUICE_CLI, '-c', join(dir, 'sluice.conf')];
  } else if (name === 'nms') {
    writeFileSync(join(dir, 'nms.json'), nmsConfig(dir, rtmpPort, httpPort as number));
    cmd = [process.execPath, NMS_APP, '-c', join(dir, 'nms.json'), '--no-admin'];
  } else {
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, rtmpPort));
    cmd = ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
  }
  const out = openSync(join(dir, 'server.log'), 'a');
  const proc = spawn('taskset', ['-c', SERVER_CPU, ...cmd], { cwd: dir, stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await waitForPort(rtmpPort, proc);
    if (httpPort) await waitForPort(httpPort, proc);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new BenchError(`${name}: ${(e as Error).message} (log in ${dir}/server.log)`);
  }
  return {
    name,
    pid: proc.pid as number,
    rtmpPort,
    httpPort,
    rtmpUrl: (stream) => `rtmp://127.0.0.1:${rtmpPort}/live/${stream}`,
    flvUrl: (stream) => (httpPort ? `http://127.0.0.1:${httpPort}/live/${stream}.flv` : null),
    readLog: () => {
      try {
        return readFileSync(join(dir, 'server.log'), 'utf8');
      } catch {
        return '';
      }
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        // nginx: QUIT would wait for players; TERM is a fast stop for all servers.
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
