/**
 * CPU and RSS of the server under test, from /proc (Linux): the given pids
 * and their direct children (nginx's workers under its master), summed.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** utime+stime in ticks, or null when the process is gone. */
function cpuTicks(pid: number): number | null {
  const s = read(`/proc/${pid}/stat`);
  if (s === null) return null;
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Resident set size in bytes, or null. */
function rssBytes(pid: number): number | null {
  const s = read(`/proc/${pid}/status`);
  if (s === null) return null;
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) * 1024 : null;
}

function childPids(pid: number): number[] {
  const s = read(`/proc/${pid}/task/${pid}/children`);
  if (!s) return [];
  return s.trim().split(/\s+/).filter(Boolean).map(Number);
}

export interface ProcSample {
  /** Monotonic ms. */
  at: number;
  ticks: number;
  rss: number;
  alive: boolean;
}

export class ProcSampler {
  constructor(readonly pids: number[]) {}

  get enabled(): boolean {
    return this.pids.length > 0;
  }

  sample(): ProcSample {
    let ticks = 0;
    let rss = 0;
    let alive = false;
    const all = new Set<number>();
    for (const p of this.pids) {
      all.add(p);
      for (const c of childPids(p)) all.add(c);
    }
    for (const p of all) {
      const t = cpuTicks(p);
      if (t === null) continue;
      alive = true;
      ticks += t;
      rss += rssBytes(p) ?? 0;
    }
    return { at: performance.now(), ticks, rss, alive };
  }

  /** CPU% of one core between two samples. */
  static cpuPercent(a: ProcSample, b: ProcSample): number {
    const secs = (b.at - a.at) / 1000;
    if (secs <= 0) return NaN;
    return ((b.ticks - a.ticks) / ticksPerSecond() / secs) * 100;
  }
}

/**
 * The kernel's count of connections dropped because a listen queue was full
 * (TcpExt ListenOverflows, machine-wide): a player that hits it waits for a
 * SYN retransmit (1 s, then 3 s), which shows as first-frame outliers.
 */
export function listenOverflows(): number {
  const s = read('/proc/net/netstat');
  if (!s) return NaN;
  const lines = s.split('\n').filter((l) => l.startsWith('TcpExt:'));
  if (lines.length < 2) return NaN;
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  const i = names.indexOf('ListenOverflows');
  return i < 0 ? NaN : Number(values[i]);
}
