/**
 * The fan-out run: N players of one stream (RTMP or HTTP-FLV), ramped at a
 * set rate, reported every interval and at the end over the steady window
 * (from ramp end + settle to the end).
 */
import type { BenchPlayer } from './bench-player.js';
import { FlvBenchPlayer } from './flv-player.js';
import { H2FlvBenchPlayer } from './h2-flv-player.js';
import { RtmpBenchPlayer } from './rtmp-player.js';
import { BenchPublisher } from './rtmp-publisher.js';
import { LoadMeter, figures, ramp, sleep, type Mark } from './run-clock.js';
import { fmt, median, percentile } from './stats.js';
import { listenOverflows } from './proc-sampler.js';
import type { Workload } from './workload.js';

export interface PlayRunOptions {
  proto: 'rtmp' | 'flv';
  /** HTTPS-FLV over HTTP/2 (one h2 connection per player). */
  h2?: boolean;
  url: string;
  players: number;
  /** Players opened per second. */
  rate: number;
  /** Total seconds, ramp included. */
  duration: number;
  /** Seconds between progress reports. */
  interval: number;
  /** Seconds over which a player's bitrate is judged in progress reports. */
  window: number;
  /** Seconds after the ramp before the steady window starts. */
  settle: number;
  pids: number[];
  /** The stream's bitrate, kbit/s; NaN: judge against the median player. */
  streamKbps: number;
  /** Continuous players (parse every message, sb_rtmp_load style) instead of skimmers. */
  continuous: boolean;
  /** Publish this workload to `publishUrl` first (in this process). */
  publish?: { url: string; workload: Workload } | undefined;
  log: (line: string) => void;
}

export interface PlayRunResult {
  proto: 'rtmp' | 'flv';
  /** Which kind of player: 'skim' (bodies skipped after the first frame) or 'continuous' (every message parsed). */
  player: 'skim' | 'continuous';
  url: string;
  players: number;
  connected: number;
  withVideo: number;
  closedEarly: number;
  behind: number;
  judged: number;
  kbpsMedian: number;
  kbpsP99: number;
  kbpsP1: number;
  referenceKbps: number;
  firstFrameMedianMs: number;
  firstFrameP99Ms: number;
  serverCpu: number;
  serverRssMb: number;
  serverIdleRssMb: number;
  /** (RSS at end - RSS before players) per 1,000 players, MB. */
  mbPer1000: number;
  /** Server CPU% per 1,000 connected players. */
  cpuPer1000: number;
  generatorCpu: number;
  generatorLoopDelayP99Ms: number;
  /** Machine-wide listen queue overflows during the run (SYNs dropped: 1-3 s first-frame outliers). */
  listenOverflows: number;
  steadySeconds: number;
  /** Per player over the steady window (players with video before it, still open): video and audio messages per second, min and median. */
  videoPerSecMin: number;
  videoPerSecMedian: number;
  audioPerSecMin: number;
  audioPerSecMedian: number;
  /** Bytes per player over the steady window, min and median (kbit/s). */
  kbpsMin: number;
  /** Continuous players: parsed coded video frames per second (min/median), keyframes in total, timestamp regressions in total. */
  parsedVideoPerSecMin: number;
  parsedVideoPerSecMedian: number;
  keyframes: number;
  timestampRegressions: number;
  errors: Record<string, number>;
}

interface Snapshot {
  at: number;
  bytes: Float64Array;
  video: Float64Array;
  audio: Float64Array;
  parsed: Float64Array;
}

function snapshot(players: BenchPlayer[]): Snapshot {
  const n = players.length;
  const s: Snapshot = { at: performance.now(), bytes: new Float64Array(n), video: new Float64Array(n), audio: new Float64Array(n), parsed: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const p = players[i];
    s.bytes[i] = p.bytes;
    s.video[i] = p.videoMessages;
    s.audio[i] = p.audioMessages;
    s.parsed[i] = p.videoFrames;
  }
  return s;
}

/** Per-second counts of one snapshot field between two snapshots, for the players `rates` judges. */
function perSecond(players: BenchPlayer[], from: Snapshot, to: Snapshot, field: 'video' | 'audio' | 'parsed'): number[] {
  const secs = (to.at - from.at) / 1000;
  const out: number[] = [];
  if (secs <= 0) return out;
  for (let i = 0; i < from.bytes.length; i++) {
    const p = players[i];
    if (p.firstFrameAt === 0 || p.firstFrameAt > from.at || p.closed) continue;
    out.push((to[field][i] - from[field][i]) / secs);
  }
  return out;
}

/** Rates (kbit/s) between two snapshots of players that had video before `from` and are still open. */
function rates(players: BenchPlayer[], from: Snapshot, to: Snapshot): number[] {
  const secs = (to.at - from.at) / 1000;
  const out: number[] = [];
  if (secs <= 0) return out;
  for (let i = 0; i < from.bytes.length; i++) {
    const p = players[i];
    if (p.firstFrameAt === 0 || p.firstFrameAt > from.at || p.closed) continue;
    out.push(((to.bytes[i] - from.bytes[i]) * 8) / 1000 / secs);
  }
  return out;
}

function countErrors(players: BenchPlayer[]): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const p of players) if (p.error) errors[p.error] = (errors[p.error] ?? 0) + 1;
  return errors;
}

export async function runPlay(o: PlayRunOptions): Promise<PlayRunResult> {
  const meter = new LoadMeter(o.pids);
  const deadline = performance.now() + o.duration * 1000;
  let publisher: BenchPublisher | null = null;
  let pubTimer: NodeJS.Timeout | null = null;
  if (o.publish) {
    publisher = new BenchPublisher(o.publish.url, o.publish.workload);
    publisher.open();
    pubTimer = setInterval(() => publisher?.tick(performance.now()), 10);
    const until = performance.now() + 10_000;
    while (publisher.state === 'connecting' && performance.now() < until) await sleep(20);
    if (publisher.state !== 'publishing') throw new Error(`the bench publisher could not publish: ${publisher.error ?? 'timeout'}`);
    await sleep(2500); // a GOP in the server's cache
  }
  const idle = meter.mark();
  const overflows0 = listenOverflows();
  const players: BenchPlayer[] = [];
  const history: Snapshot[] = [];
  let lastMark: Mark = idle;
  const report = (final: boolean): void => {
    const now = snapshot(players);
    history.push(now);
    const want = now.at - o.window * 1000;
    let from = history[0];
    for (const s of history) if (s.at <= want) from = s;
    const r = rates(players, from, now);
    const ref = Number.isFinite(o.streamKbps) ? o.streamKbps : median(r);
    const behind = r.filter((x) => x < 0.9 * ref).length;
    const mark = meter.mark();
    const f = figures(lastMark, mark);
    lastMark = mark;
    const ff = players.map((p) => p.firstFrameMs).filter((x) => Number.isFinite(x));
    const open = players.filter((p) => !p.closed).length;
    if (!final)
      o.log(
        `[${((now.at - idle.at) / 1000).toFixed(0).padStart(3)}s] players ${open}/${players.length} open, video ${ff.length}, behind ${behind}/${r.length} (${o.window}s window), ` +
          `kbps med ${fmt(median(r))} p99 ${fmt(percentile(r, 99))} p1 ${fmt(percentile(r, 1))}, first frame med ${fmt(median(ff))} p99 ${fmt(percentile(ff, 99))} ms, ` +
          `server cpu ${fmt(f.serverCpu, 1)}% rss ${fmt(f.serverRssMb, 1)} MB, generator cpu ${fmt(f.selfCpu, 1)}%`,
      );
  };
  const timer = setInterval(() => report(false), o.interval * 1000);
  const Player = o.proto === 'rtmp' ? RtmpBenchPlayer : o.h2 === true ? H2FlvBenchPlayer : FlvBenchPlayer;
  await ramp(
    o.players,
    o.rate,
    () => {
      const p = new Player(o.url, o.continuous);
      players.push(p);
      p.open();
    },
    () => performance.now() >= deadline,
  );
  const settleUntil = performance.now() + o.settle * 1000;
  while (performance.now() < Math.min(settleUntil, deadline)) await sleep(50);
  const steadyStart = snapshot(players);
  const steadyMark = meter.mark();
  meter.loopDelayP99();
  while (performance.now() < deadline) await sleep(50);
  clearInterval(timer);
  const end = snapshot(players);
  const endMark = meter.mark();
  const loopDelay = meter.loopDelayP99();
  report(true);
  const r = rates(players, steadyStart, end);
  const ref = Number.isFinite(o.streamKbps) ? o.streamKbps : median(r);
  const ff = players.map((p) => p.firstFrameMs).filter((x) => Number.isFinite(x));
  const f = figures(steadyMark, endMark);
  const connected = players.filter((p) => !p.closed).length;
  const idleRss = idle.server ? idle.server.rss / 1048576 : NaN;
  const vps = perSecond(players, steadyStart, end, 'video');
  const aps = perSecond(players, steadyStart, end, 'audio');
  const pps = o.continuous ? perSecond(players, steadyStart, end, 'parsed') : [];
  const min = (a: number[]): number => (a.length ? Math.min(...a) : NaN);
  const result: PlayRunResult = {
    proto: o.proto,
    player: o.continuous ? 'continuous' : 'skim',
    url: o.url,
    players: o.players,
    connected,
    withVideo: players.filter((p) => p.firstFrameAt !== 0).length,
    closedEarly: players.filter((p) => p.closed).length,
    behind: r.filter((x) => x < 0.9 * ref).length + players.filter((p) => p.firstFrameAt === 0 || p.closed).length,
    judged: r.length,
    kbpsMedian: median(r),
    kbpsP99: percentile(r, 99),
    kbpsP1: percentile(r, 1),
    referenceKbps: ref,
    firstFrameMedianMs: median(ff),
    firstFrameP99Ms: percentile(ff, 99),
    serverCpu: f.serverCpu,
    serverRssMb: f.serverRssMb,
    serverIdleRssMb: idleRss,
    mbPer1000: ((f.serverRssMb - idleRss) / Math.max(1, connected)) * 1000,
    cpuPer1000: (f.serverCpu / Math.max(1, connected)) * 1000,
    generatorCpu: f.selfCpu,
    generatorLoopDelayP99Ms: loopDelay,
    listenOverflows: listenOverflows() - overflows0,
    steadySeconds: (end.at - steadyStart.at) / 1000,
    videoPerSecMin: min(vps),
    videoPerSecMedian: median(vps),
    audioPerSecMin: min(aps),
    audioPerSecMedian: median(aps),
    kbpsMin: min(r),
    parsedVideoPerSecMin: min(pps),
    parsedVideoPerSecMedian: median(pps),
    keyframes: o.continuous ? players.reduce((n, p) => n + p.keyframes, 0) : NaN,
    timestampRegressions: o.continuous ? players.reduce((n, p) => n + p.timestampRegressions, 0) : NaN,
    errors: countErrors(players),
  };
  for (const p of players) p.close();
  if (pubTimer) clearInterval(pubTimer);
  publisher?.close();
  meter.stop();
  return result;
}

export function describePlay(r: PlayRunResult): string {
  const errs = Object.entries(r.errors)
    .map(([k, v]) => `${v}× ${k}`)
    .join('; ');
  return [
    `${r.proto} play (${r.player} players) ${r.url}: ${r.connected}/${r.players} connected, ${r.withVideo} with video, ${r.closedEarly} closed early`,
    `steady window ${fmt(r.steadySeconds, 1)} s: behind ${r.behind} (bitrate < 90% of ${fmt(r.referenceKbps)} kbit/s, or no video), kbit/s median ${fmt(r.kbpsMedian)} p99 ${fmt(r.kbpsP99)} p1 ${fmt(r.kbpsP1)} min ${fmt(r.kbpsMin)}`,
    `per player: video msgs/s min ${fmt(r.videoPerSecMin, 1)} median ${fmt(r.videoPerSecMedian, 1)}, audio msgs/s min ${fmt(r.audioPerSecMin, 1)} median ${fmt(r.audioPerSecMedian, 1)}` +
      (r.player === 'continuous'
        ? `; parsed coded video frames/s min ${fmt(r.parsedVideoPerSecMin, 1)} median ${fmt(r.parsedVideoPerSecMedian, 1)}, keyframes ${fmt(r.keyframes)}, timestamp regressions ${fmt(r.timestampRegressions)}`
        : ''),
    `first frame median ${fmt(r.firstFrameMedianMs)} ms p99 ${fmt(r.firstFrameP99Ms)} ms; listen queue overflows (machine-wide) ${fmt(r.listenOverflows)}`,
    `server cpu ${fmt(r.serverCpu, 1)}% of one core (${fmt(r.cpuPer1000, 1)}% per 1,000), rss ${fmt(r.serverRssMb, 1)} MB (idle ${fmt(r.serverIdleRssMb, 1)}, ${fmt(r.mbPer1000, 1)} MB per 1,000)`,
    `generator cpu ${fmt(r.generatorCpu, 1)}%, event loop delay p99 ${fmt(r.generatorLoopDelayP99Ms, 1)} ms`,
    errs ? `errors: ${errs}` : 'errors: none',
  ].join('\n');
}
