/** Small helpers shared by the bench runs: sleeping, ramping, server and generator sampling. */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ProcSampler, type ProcSample } from './proc-sampler.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Opens `count` things at `perSecond`, calling `open(i)`; resolves when all are opened or `stop()` says so. */
export async function ramp(count: number, perSecond: number, open: (i: number) => void, stop: () => boolean): Promise<void> {
  const start = performance.now();
  let opened = 0;
  while (opened < count && !stop()) {
    const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * perSecond) + 1);
    while (opened < due) open(opened++);
    if (opened < count) await sleep(10);
  }
}

/** CPU and RSS of the server pids, and this process's own CPU and event loop delay, between two marks. */
export class LoadMeter {
  readonly server: ProcSampler;
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  constructor(pids: number[]) {
    this.server = new ProcSampler(pids);
    this.loop.enable();
  }
  mark(): Mark {
    return { server: this.server.enabled ? this.server.sample() : null, at: performance.now(), self: process.cpuUsage() };
  }
  /** Event loop delay p99 (ms) since the last reset, then resets. */
  loopDelayP99(): number {
    const v = this.loop.percentile(99) / 1e6;
    this.loop.reset();
    return v;
  }
  stop(): void {
    this.loop.disable();
  }
}

export interface Mark {
  server: ProcSample | null;
  at: number;
  self: NodeJS.CpuUsage;
}

export interface LoadFigures {
  /** Server CPU, % of one core, NaN without --pid. */
  serverCpu: number;
  /** Server RSS at the later mark, MB. */
  serverRssMb: number;
  /** Load generator's own CPU, % of one core. */
  selfCpu: number;
}

export function figures(a: Mark, b: Mark): LoadFigures {
  const secs = (b.at - a.at) / 1000;
  const self = b.self;
  const selfUs = self.user + self.system - (a.self.user + a.self.system);
  return {
    serverCpu: a.server && b.server ? ProcSampler.cpuPercent(a.server, b.server) : NaN,
    serverRssMb: b.server ? b.server.rss / 1048576 : NaN,
    selfCpu: secs > 0 ? (selfUs / 1e6 / secs) * 100 : NaN,
  };
}

/** Parses "123,456" into pids. */
export function parsePids(s: string | undefined): number[] {
  if (!s) return [];
  return s
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}
