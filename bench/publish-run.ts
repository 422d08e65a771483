/** The publishers run: M RTMP publishers of the workload, each on its own stream, ramped, looped in real time. */
import { BenchPublisher } from './rtmp-publisher.js';
import { LoadMeter, figures, ramp, sleep, type Mark } from './run-clock.js';
import { fmt, median } from './stats.js';
import type { Workload } from './workload.js';

export interface PublishRunOptions {
  /** rtmp://host:port/app/prefix; publisher i publishes prefix-i. */
  url: string;
  publishers: number;
  rate: number;
  duration: number;
  interval: number;
  settle: number;
  /** ms between sends (each publisher sends what is due). */
  tickMs: number;
  pids: number[];
  workload: Workload;
  log: (line: string) => void;
}

export interface PublishRunResult {
  url: string;
  publishers: number;
  publishing: number;
  behind: number;
  dropped: number;
  kbpsMedian: number;
  serverCpu: number;
  serverRssMb: number;
  serverIdleRssMb: number;
  mbPer1000: number;
  cpuPer1000: number;
  generatorCpu: number;
  generatorLoopDelayP99Ms: number;
  steadySeconds: number;
  /**
   * RSS added by the second half of the publishers (sampled after the first
   * half has settled, and at the end), per publisher, KB: the per-session
   * footprint without the server's one-off growth (heap spaces, code).
   */
  marginalKbPerPublisher: number;
  /** What a one-GOP cache holds per stream for this workload on average (payload bytes, time-averaged), KB. */
  gopCacheKb: number;
  errors: Record<string, number>;
}

/**
 * The payload a GOP cache of the workload holds on average: at each instant
 * the bytes of the media since the last video keyframe, averaged over a loop.
 */
function averageGopBytes(w: Workload): number {
  const media = w.tags.filter((t) => !t.header);
  let held = 0;
  let area = 0;
  for (let i = 0; i < media.length; i++) {
    const t = media[i];
    if (t.type === 9 && t.body.length > 0 && t.body[0] >> 4 === 1) held = 0;
    held += t.body.length;
    const next = i + 1 < media.length ? media[i + 1].ts : w.loopMs;
    area += held * Math.max(0, next - t.ts);
  }
  return w.loopMs > 0 ? area / w.loopMs : 0;
}

export async function runPublish(o: PublishRunOptions): Promise<PublishRunResult> {
  const meter = new LoadMeter(o.pids);
  const deadline = performance.now() + o.duration * 1000;
  const idle = meter.mark();
  const pubs: BenchPublisher[] = [];
  const tick = setInterval(() => {
    const now = performance.now();
    for (const p of pubs) p.tick(now);
  }, o.tickMs);
  let last: Mark = idle;
  const timer = setInterval(() => {
    const m = meter.mark();
    const f = figures(last, m);
    last = m;
    const publishing = pubs.filter((p) => p.state === 'publishing').length;
    o.log(
      `[${((m.at - idle.at) / 1000).toFixed(0).padStart(3)}s] publishers ${publishing}/${pubs.length} publishing, behind ${pubs.filter((p) => p.behind).length}, ` +
        `server cpu ${fmt(f.serverCpu, 1)}% rss ${fmt(f.serverRssMb, 1)} MB, generator cpu ${fmt(f.selfCpu, 1)}%`,
    );
  }, o.interval * 1000);
  const open = (i: number): void => {
    const p = new BenchPublisher(`${o.url}-${i}`, o.workload);
    pubs.push(p);
    p.open();
  };
  const half = Math.floor(o.publishers / 2);
  await ramp(half, o.rate, open, () => performance.now() >= deadline);
  const halfSettle = Math.min(deadline, performance.now() + o.settle * 1000);
  while (performance.now() < halfSettle) await sleep(50);
  const halfMark = meter.mark();
  const halfPublishing = pubs.filter((p) => p.state === 'publishing').length;
  await ramp(o.publishers - half, o.rate, (i) => open(half + i), () => performance.now() >= deadline);
  const settleUntil = Math.min(deadline, performance.now() + o.settle * 1000);
  while (performance.now() < settleUntil) await sleep(50);
  for (const p of pubs) p.behind = false;
  const steadyMark = meter.mark();
  const sent0 = pubs.map((p) => p.bytesSent);
  meter.loopDelayP99();
  while (performance.now() < deadline) await sleep(50);
  clearInterval(timer);
  const endMark = meter.mark();
  const loopDelay = meter.loopDelayP99();
  const f = figures(steadyMark, endMark);
  const secs = (endMark.at - steadyMark.at) / 1000;
  const publishing = pubs.filter((p) => p.state === 'publishing');
  const errors: Record<string, number> = {};
  for (const p of pubs) if (p.error) errors[p.error] = (errors[p.error] ?? 0) + 1;
  const idleRss = idle.server ? idle.server.rss / 1048576 : NaN;
  const result: PublishRunResult = {
    url: o.url,
    publishers: o.publishers,
    publishing: publishing.length,
    behind: pubs.filter((p) => p.behind || p.state !== 'publishing').length,
    dropped: pubs.reduce((s, p) => s + p.dropped, 0),
    kbpsMedian: median(pubs.map((p, i) => ((p.bytesSent - sent0[i]) * 8) / 1000 / secs)),
    serverCpu: f.serverCpu,
    serverRssMb: f.serverRssMb,
    serverIdleRssMb: idleRss,
    mbPer1000: ((f.serverRssMb - idleRss) / Math.max(1, publishing.length)) * 1000,
    cpuPer1000: (f.serverCpu / Math.max(1, publishing.length)) * 1000,
    generatorCpu: f.selfCpu,
    generatorLoopDelayP99Ms: loopDelay,
    steadySeconds: secs,
    marginalKbPerPublisher:
      halfMark.server && endMark.server && publishing.length > halfPublishing ? (endMark.server.rss - halfMark.server.rss) / 1024 / (publishing.length - halfPublishing) : NaN,
    gopCacheKb: averageGopBytes(o.workload) / 1024,
    errors,
  };
  clearInterval(tick);
  for (const p of pubs) p.close();
  meter.stop();
  return result;
}

export function describePublish(r: PublishRunResult): string {
  const errs = Object.entries(r.errors)
    .map(([k, v]) => `${v}× ${k}`)
    .join('; ');
  return [
    `RTMP publish ${r.url}-N: ${r.publishing}/${r.publishers} publishing; behind (> 2 s queued, or not publishing) ${r.behind}; messages dropped ${r.dropped}`,
    `steady window ${fmt(r.steadySeconds, 1)} s: sent kbit/s median ${fmt(r.kbpsMedian)}`,
    `server cpu ${fmt(r.serverCpu, 1)}% of one core (${fmt(r.cpuPer1000, 1)}% per 1,000), rss ${fmt(r.serverRssMb, 1)} MB (idle ${fmt(r.serverIdleRssMb, 1)}, ${fmt(r.mbPer1000, 1)} MB per 1,000)`,
    `rss added per publisher by the second half: ${fmt(r.marginalKbPerPublisher, 1)} KB (a one-GOP cache of this workload holds ${fmt(r.gopCacheKb, 1)} KB on average; beyond it ${fmt(r.marginalKbPerPublisher - r.gopCacheKb, 1)} KB)`,
    `generator cpu ${fmt(r.generatorCpu, 1)}%, event loop delay p99 ${fmt(r.generatorLoopDelayP99Ms, 1)} ms`,
    errs ? `errors: ${errs}` : 'errors: none',
  ].join('\n');
}
