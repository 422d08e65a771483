/**
 * CPU and memory of the process and the machine, from Linux's /proc (the
 * same sources SRS reads), with parsers kept pure so they are testable with
 * plain strings. Elsewhere the readers return null and the API says `ok:false`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** /proc/self/stat, in field order (see proc(5)); names as SRS's API prints them. */
export const SELF_STAT_FIELDS = [
  'pid', 'comm', 'state', 'ppid', 'pgrp', 'session', 'tty_nr', 'tpgid', 'flags', 'minflt', 'cminflt', 'majflt', 'cmajflt',
  'utime', 'stime', 'cutime', 'cstime', 'priority', 'nice', 'num_threads', 'itrealvalue', 'starttime', 'vsize', 'rss',
  'rsslim', 'startcode', 'endcode', 'startstack', 'kstkesp', 'kstkeip', 'signal', 'blocked', 'sigignore', 'sigcatch',
  'wchan', 'nswap', 'cnswap', 'exit_signal', 'processor', 'rt_priority', 'policy', 'delayacct_blkio_ticks', 'guest_time',
  'cguest_time',
] as const;

export type SelfStat = Record<(typeof SELF_STAT_FIELDS)[number], number | string>;

/** Parses /proc/<pid>/stat; `comm` may hold spaces and parentheses, so split around the last `)`. */
export function parseSelfStat(text: string): SelfStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const out: Record<string, number | string> = { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close) };
  for (let i = 2; i < SELF_STAT_FIELDS.length; i++) {
    const v = rest[i - 2];
    const name = SELF_STAT_FIELDS[i]!;
    out[name] = name === 'state' ? (v ?? '') : Number(v ?? 0) || 0;
  }
  return out as SelfStat;
}

export interface CpuTimes {
  user: number;
  nice: number;
  sys: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
}

/** The aggregate `cpu` line of /proc/stat (ticks). */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const n = line.trim().split(/\s+/).slice(1).map((x) => Number(x) || 0);
  return { user: n[0] ?? 0, nice: n[1] ?? 0, sys: n[2] ?? 0, idle: n[3] ?? 0, iowait: n[4] ?? 0, irq: n[5] ?? 0, softirq: n[6] ?? 0, steal: n[7] ?? 0, guest: n[8] ?? 0 };
}

function cpuTotal(t: CpuTimes): number {
  return t.user + t.nice + t.sys + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** /proc/meminfo as kB numbers by key. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export interface MemInfo {
  ok: boolean;
  MemTotal: number;
  MemFree: number;
  Buffers: number;
  Cached: number;
  SwapTotal: number;
  SwapFree: number;
  MemActive: number;
  RealInUse: number;
  NotInUse: number;
  percent_ram: number;
  percent_swap: number;
}

export function memInfoFrom(m: Record<string, number>): MemInfo {
  const total = m.MemTotal ?? 0;
  const free = m.MemFree ?? 0;
  const buffers = m.Buffers ?? 0;
  const cached = m.Cached ?? 0;
  const swapTotal = m.SwapTotal ?? 0;
  const swapFree = m.SwapFree ?? 0;
  const active = total - free;
  const real = active - buffers - cached;
  return {
    ok: total > 0,
    MemTotal: total,
    MemFree: free,
    Buffers: buffers,
    Cached: cached,
    SwapTotal: swapTotal,
    SwapFree: swapFree,
    MemActive: active,
    RealInUse: real,
    NotInUse: total - real,
    percent_ram: total > 0 ? real / total : 0,
    percent_swap: swapTotal > 0 ? (swapTotal - swapFree) / swapTotal : 0,
  };
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Samples the process and the machine; CPU percentages are over the time
 * between two `sample()` calls (the stats timer, every few seconds).
 */
export class ProcSampler {
  selfStat: SelfStat | null = null;
  cpu: CpuTimes | null = null;
  mem: MemInfo = memInfoFrom({});
  /** Process CPU, percent of one core (may exceed 100 on several cores), as SRS prints it. */
  selfCpuPercent = 0;
  /** Machine CPU busy ratio, 0..1 (SRS prints `percent` of system_proc_stats as a ratio). */
  systemCpuRatio = 0;
  sampleTime = 0;
  private lastCpuUsage = process.cpuUsage();
  private lastWall = performance.now();
  private lastCpu: CpuTimes | null = null;

  constructor(private readonly read: (path: string) => string | null = readText) {
    this.sample();
  }

  sample(): void {
    const wall = performance.now();
    const usage = process.cpuUsage();
    const dWall = wall - this.lastWall;
    if (dWall > 0) {
      const dCpu = (usage.user - this.lastCpuUsage.user + usage.system - this.lastCpuUsage.system) / 1000;
      this.selfCpuPercent = Math.max(0, (dCpu / dWall) * 100);
    }
    this.lastCpuUsage = usage;
    this.lastWall = wall;
    const self = this.read('/proc/self/stat');
    this.selfStat = self ? parseSelfStat(self) : null;
    const stat = this.read('/proc/stat');
    const cpu = stat ? parseProcStat(stat) : null;
    if (cpu && this.lastCpu) {
      const dTotal = cpuTotal(cpu) - cpuTotal(this.lastCpu);
      const dIdle = cpu.idle - this.lastCpu.idle;
      if (dTotal > 0) this.systemCpuRatio = Math.max(0, Math.min(1, 1 - dIdle / dTotal));
    }
    if (cpu) this.lastCpu = cpu;
    this.cpu = cpu;
    const mem = this.read('/proc/meminfo');
    this.mem = mem ? memInfoFrom(parseMeminfo(mem)) : memInfoFrom({ MemTotal: Math.round(os.totalmem() / 1024), MemFree: Math.round(os.freemem() / 1024) });
    this.sampleTime = Date.now();
  }

  /** Resident memory of the process in kB. */
  rssKb(): number {
    return Math.round(process.memoryUsage.rss() / 1024);
  }
}
