/**
 * CPU and memory of the process and the machine, from Linux's /proc (the
 * same sources SRS reads), with parsers kept pure so they are testable with
 * plain strings. Elsewhere the readers return null and the API says `ok:false`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import {
  isInternetIpv4, parseDiskstats, parseNetDev, parseSnmpTcpEstablished, parseSockstat, parseUptime, selectDisks, type DiskDevice,
} from './proc-net-disk.js';

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

export interface DiskRates {
  readKBps: number;
  writeKBps: number;
  /** Share of the time the busiest counted disk was doing I/O, 0..1 (SRS's `disk_busy_percent`, a ratio). */
  busy: number;
}

/** Machine-wide network byte counters since boot, split as SRS does (public vs private/loopback interfaces). */
export interface NetTotals {
  sampleTime: number;
  recvBytes: number;
  sendBytes: number;
  /** Interfaces without a public IPv4 address (loopback, LAN). */
  recviBytes: number;
  sendiBytes: number;
}

/** The machine's sockets, as SRS counts them (`conn_sys` = TCP allocated + TIME_WAIT). */
export interface SocketTotals {
  sys: number;
  established: number;
  timeWait: number;
  udp: number;
}

type Interfaces = () => ReturnType<typeof os.networkInterfaces>;

/** Interface names with a public IPv4 address. */
function internetInterfaces(interfaces: Interfaces): Set<string> {
  const out = new Set<string>();
  for (const [name, addrs] of Object.entries(interfaces())) {
    if (addrs?.some((a) => a.family === 'IPv4' && isInternetIpv4(a.address))) out.add(name);
  }
  return out;
}

/**
 * Samples the process and the machine; CPU percentages and disk rates are over
 * the time between two `sample()` calls (the stats timer, every few seconds).
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
  disk: DiskRates = { readKBps: 0, writeKBps: 0, busy: 0 };
  net: NetTotals = { sampleTime: 0, recvBytes: 0, sendBytes: 0, recviBytes: 0, sendiBytes: 0 };
  sockets: SocketTotals = { sys: 0, established: 0, timeWait: 0, udp: 0 };
  /** /proc/uptime: seconds since boot and idle seconds (summed over CPUs); null off Linux. */
  uptime: { uptime: number; idle: number } | null = null;
  private lastCpuUsage = process.cpuUsage();
  private lastWall = performance.now();
  private lastCpu: CpuTimes | null = null;
  private lastDisks: { at: number; devices: DiskDevice[] } | null = null;

  constructor(
    private readonly read: (path: string) => string | null = readText,
    /** `stats.disk`: the devices to count (empty = every whole disk). */
    private readonly diskNames: () => readonly string[] = () => [],
    private readonly interfaces: Interfaces = os.networkInterfaces,
  ) {
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
    this.sampleDisks(wall);
    this.sampleNet();
    this.sampleSockets();
    const up = this.read('/proc/uptime');
    this.uptime = up ? parseUptime(up) : null;
  }

  private sampleDisks(wall: number): void {
    const text = this.read('/proc/diskstats');
    if (!text) return;
    const devices = selectDisks(parseDiskstats(text), this.diskNames());
    const last = this.lastDisks;
    this.lastDisks = { at: wall, devices };
    if (!last || wall <= last.at) return;
    const seconds = (wall - last.at) / 1000;
    let read = 0;
    let write = 0;
    let busy = 0;
    for (const d of devices) {
      const before = last.devices.find((x) => x.name === d.name);
      if (!before) continue;
      // A counter that went back (device re-attached) counts as no activity, not as a huge negative rate.
      read += Math.max(0, d.readSectors - before.readSectors);
      write += Math.max(0, d.writeSectors - before.writeSectors);
      busy = Math.max(busy, Math.max(0, d.ioTicksMs - before.ioTicksMs) / (wall - last.at));
    }
    this.disk = { readKBps: Math.round((read * 512) / 1024 / seconds), writeKBps: Math.round((write * 512) / 1024 / seconds), busy: Math.min(1, busy) };
  }

  private sampleNet(): void {
    const text = this.read('/proc/net/dev');
    if (!text) return;
    const internet = internetInterfaces(this.interfaces);
    const net: NetTotals = { sampleTime: Date.now(), recvBytes: 0, sendBytes: 0, recviBytes: 0, sendiBytes: 0 };
    for (const d of parseNetDev(text)) {
      if (internet.has(d.name)) {
        net.recvBytes += d.recvBytes;
        net.sendBytes += d.sendBytes;
      } else {
        net.recviBytes += d.recvBytes;
        net.sendiBytes += d.sendBytes;
      }
    }
    this.net = net;
  }

  private sampleSockets(): void {
    const sockstat = this.read('/proc/net/sockstat');
    const counts = sockstat ? parseSockstat(sockstat) : null;
    if (!counts) return;
    const snmp = this.read('/proc/net/snmp');
    const established = snmp ? parseSnmpTcpEstablished(snmp) : null;
    this.sockets = { sys: counts.tcpAlloc + counts.tcpTimeWait, established: established ?? 0, timeWait: counts.tcpTimeWait, udp: counts.udpInUse };
  }

  /** Resident memory of the process in kB. */
  rssKb(): number {
    return Math.round(process.memoryUsage.rss() / 1024);
  }
}
