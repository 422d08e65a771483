/**
 * The side-by-side matrix of issue 6: for each server, RTMP and HTTP-FLV
 * fan-out at each N and RTMP publishers at each M, each run on a freshly
 * started server pinned to core 0, with the load generator and the latency
 * probe as separate processes pinned to core 1. Prints markdown tables and
 * writes every figure as JSON.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from './bench-error.js';
import type { LatencyRunResult } from './latency-run.js';
import { LOAD_CPU, NMS_VERSION, peerMissing, startPeer, type PeerName, type RunningPeer } from './peers.js';
import type { PlayRunResult } from './play-run.js';
import type { PublishRunResult } from './publish-run.js';
import { sleep } from './run-clock.js';
import { fmt } from './stats.js';

export interface MatrixOptions {
  servers: string[];
  protos: ('rtmp' | 'flv')[];
  players: number[];
  publishers: number[];
  /** Seconds of steady state per run, after ramp and settle. */
  steady: number;
  /** Which kind of load player (see play-run.ts). */
  player: 'skim' | 'continuous';
  file: string;
  out: string | undefined;
  log: (line: string) => void;
}

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));
const PLAYER_RATE = 500;
const PUBLISHER_RATE = 100;
const SETTLE = 3;
/** Seconds the stamped publisher runs before the players start (a GOP in the cache). */
const LEAD = 3;

interface PlayRow {
  server: PeerName;
  proto: 'rtmp' | 'flv';
  n: number;
  play: PlayRunResult | null;
  latency: LatencyRunResult | null;
  note: string;
}

interface PublishRow {
  server: PeerName;
  m: number;
  publish: PublishRunResult | null;
  note: string;
}

/**
 * Runs `node dist/bench/cli.js ARGS --json` on the load core; resolves with its JSON result.
 * `boost`: five nice levels above the generator (root only; otherwise nice says so and runs it
 * as is), so that the latency probe's own wake-up delay on the busy load core does not read
 * as server-added latency.
 */
function runCli<T>(args: string[], log: (l: string) => void, tag: string, boost = false): Promise<T> {
  return new Promise((resolve, reject) => {
    const nice = boost ? ['nice', '-n', '-5'] : [];
    const p = spawn('taskset', ['-c', LOAD_CPU, ...nice, process.execPath, CLI, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      let nl: number;
      while ((nl = err.indexOf('\n')) >= 0) {
        log(`  ${tag} ${err.slice(0, nl)}`);
        err = err.slice(nl + 1);
      }
    });
    p.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as T);
      else reject(new BenchError(`${tag} exited ${code}: ${err.trim() || out.trim()}`));
    });
  });
}

function serverNotes(peer: RunningPeer): string {
  // Warnings and errors only: pino level >= 40 (Sluice), [WARN]/[ERROR] (node-media-server), nginx's [warn] and worse.
  // Resets at teardown (the generator destroys its sockets) are expected and left out.
  const lines = peer
    .readLog()
    .split('\n')
    .filter((l) => /"level":(40|50|60)|\[(WARN|ERROR)\]|\[(warn|error|crit|alert|emerg)\]/.test(l) && !/ECONNRESET|EPIPE/.test(l));
  return lines.length ? `${lines.length} warning/error lines in the server log, e.g. ${lines[0].slice(0, 200)}` : '';
}

async function playRun(server: PeerName, proto: 'rtmp' | 'flv', n: number, o: MatrixOptions): Promise<PlayRow> {
  const peer = await startPeer(server);
  try {
    const playUrl = proto === 'rtmp' ? peer.rtmpUrl('livestream') : peer.flvUrl('livestream');
    if (!playUrl) return { server, proto, n, play: null, latency: null, note: 'n/a (no HTTP-FLV)' };
    await sleep(500);
    const ramp = Math.ceil(n / PLAYER_RATE);
    const playDuration = ramp + SETTLE + o.steady;
    const pids = String(peer.pid);
    const latency = runCli<LatencyRunResult>(
      ['latency', '--url', peer.rtmpUrl('livestream'), '--play-url', playUrl, '--duration', String(LEAD + playDuration + 1), '--skip', String(LEAD + ramp + SETTLE), '--file', o.file, '--interval', '10'],
      o.log,
      `[${server} ${proto} ${n} latency]`,
      true,
    );
    await sleep(LEAD * 1000);
    const play = runCli<PlayRunResult>(
      [`${proto}-play`, '--url', playUrl, '--players', String(n), '--rate', String(PLAYER_RATE), '--duration', String(playDuration), '--settle', String(SETTLE), '--pid', pids, '--file', o.file, '--interval', '5', '--player', o.player],
      o.log,
      `[${server} ${proto} ${n}]`,
    );
    const [pr, lr] = await Promise.allSettled([play, latency]);
    const notes = [pr.status === 'rejected' ? String(pr.reason) : '', lr.status === 'rejected' ? String(lr.reason) : '', serverNotes(peer)].filter(Boolean);
    return { server, proto, n, play: pr.status === 'fulfilled' ? pr.value : null, latency: lr.status === 'fulfilled' ? lr.value : null, note: notes.join('; ') };
  } finally {
    await peer.stop();
  }
}

async function publishRun(server: PeerName, m: number, o: MatrixOptions): Promise<PublishRow> {
  const peer = await startPeer(server);
  try {
    await sleep(500);
    const ramp = Math.ceil(m / PUBLISHER_RATE);
    const r = await runCli<PublishRunResult>(
      ['publish', '--url', peer.rtmpUrl('bench'), '--publishers', String(m), '--rate', String(PUBLISHER_RATE), '--duration', String(ramp + SETTLE + o.steady), '--settle', String(SETTLE), '--pid', String(peer.pid), '--file', o.file, '--interval', '5'],
      o.log,
      `[${server} publish ${m}]`,
    ).then(
      (v) => ({ v, note: '' }),
      (e: unknown) => ({ v: null, note: String(e) }),
    );
    return { server, m, publish: r.v, note: [r.note, serverNotes(peer)].filter(Boolean).join('; ') };
  } finally {
    await peer.stop();
  }
}

function playTable(rows: PlayRow[]): string {
  const head =
    '| server | proto | players | connected | behind | kbit/s median (p1) | first frame median / p99 ms | server CPU % | CPU % per 1,000 | RSS MB (idle) | MB per 1,000 | latency median / p99 ms (probe loop delay p99) | generator CPU % | listen drops | video / audio msgs/s per player, min (median) |\n' +
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) => {
    const p = r.play;
    const l = r.latency;
    if (!p) return `| ${r.server} | ${r.proto} | ${r.n} | ${r.note || 'failed'} |||||||||||| |`;
    return `| ${r.server} | ${r.proto} | ${r.n} | ${p.connected} | ${p.behind} | ${fmt(p.kbpsMedian)} (${fmt(p.kbpsP1)}) | ${fmt(p.firstFrameMedianMs)} / ${fmt(p.firstFrameP99Ms)} | ${fmt(p.serverCpu, 1)} | ${fmt(p.cpuPer1000, 1)} | ${fmt(p.serverRssMb)} (${fmt(p.serverIdleRssMb)}) | ${fmt(p.mbPer1000, 1)} | ${l ? `${fmt(l.medianMs, 1)} / ${fmt(l.p99Ms, 1)} (${fmt(l.probeLoopDelayP99Ms, 1)})` : '-'} | ${fmt(p.generatorCpu)} | ${p.listenOverflows ?? '-'} | ${fmt(p.videoPerSecMin, 1)} (${fmt(p.videoPerSecMedian, 1)}) / ${fmt(p.audioPerSecMin, 1)} (${fmt(p.audioPerSecMedian, 1)}) |`;
  });
  return [head, ...lines].join('\n');
}

function publishTable(rows: PublishRow[]): string {
  const head =
    '| server | publishers | publishing | behind | sent kbit/s median | server CPU % | CPU % per 1,000 | RSS MB (idle) | MB per 1,000 | KB per publisher, second half (GOP cache KB) | generator CPU % |\n' +
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) => {
    const p = r.publish;
    if (!p) return `| ${r.server} | ${r.m} | ${r.note || 'failed'} |||||||| |`;
    return `| ${r.server} | ${r.m} | ${p.publishing} | ${p.behind} | ${fmt(p.kbpsMedian)} | ${fmt(p.serverCpu, 1)} | ${fmt(p.cpuPer1000, 1)} | ${fmt(p.serverRssMb)} (${fmt(p.serverIdleRssMb)}) | ${fmt(p.mbPer1000, 1)} | ${fmt(p.marginalKbPerPublisher, 1)} (${fmt(p.gopCacheKb, 1)}) | ${fmt(p.generatorCpu)} |`;
  });
  return [head, ...lines].join('\n');
}

export async function runMatrix(o: MatrixOptions): Promise<void> {
  const servers = o.servers as PeerName[];
  for (const s of servers) {
    const missing = peerMissing(s);
    if (missing) throw new BenchError(`${s}: ${missing}`);
  }
  const startedAt = new Date().toISOString();
  const playRows: PlayRow[] = [];
  const publishRows: PublishRow[] = [];
  for (const server of servers) {
    for (const proto of o.protos) {
      for (const n of o.players) {
        o.log(`== ${server} ${proto} play, ${n} players`);
        const row = server === 'nginx' && proto === 'flv' ? { server, proto, n, play: null, latency: null, note: 'n/a (nginx-rtmp has no HTTP-FLV)' } : await playRun(server, proto, n, o);
        if (row.note) o.log(`   note: ${row.note}`);
        playRows.push(row);
      }
    }
    // Publishing does not depend on the play mode: one Sluice mode is enough.
    if ((server === 'sluice-rt' || server === 'sluice-rtn') && servers.includes('sluice-mw')) continue;
    for (const m of o.publishers) {
      o.log(`== ${server} publish, ${m} publishers`);
      const row = await publishRun(server, m, o);
      if (row.note) o.log(`   note: ${row.note}`);
      publishRows.push(row);
    }
  }
  let commit = 'unknown commit';
  try {
    commit = execFileSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not a git checkout */
  }
  const machine = `Sluice ${commit}, ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, node-media-server ${NMS_VERSION}`;
  const text = [`Matrix run ${startedAt} on ${machine}; steady window ${o.steady} s per run; ${o.player} players.`, '', playTable(playRows), '', publishTable(publishRows), ''].join('\n');
  const out = o.out ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', '.work', `matrix-${startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ startedAt, machine, options: { ...o, log: undefined }, playRows, publishRows }, null, 2));
  o.log(`results written to ${out}`);
  process.stdout.write(text);
}
