/**
 * Disk, network and socket counters of the machine from Linux's /proc, the
 * files SRS reads for `/api/v1/summaries`: /proc/diskstats, /proc/net/dev,
 * /proc/net/sockstat, /proc/net/snmp and /proc/uptime. Pure parsers over the
 * files' text (tested on captured text); the sampler turns them into rates.
 */

export interface DiskDevice {
  name: string;
  /** 512-byte sectors, whatever the device's block size (the kernel's unit in diskstats). */
  readSectors: number;
  writeSectors: number;
  /** ms the device spent doing I/O (field 13, "io_ticks"). */
  ioTicksMs: number;
}

/** /proc/diskstats: `major minor name reads merged sectors ms writes merged sectors ms in_flight io_ms weighted_ms ...`. */
export function parseDiskstats(text: string): DiskDevice[] {
  const out: DiskDevice[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const n = (i: number): number => Number(f[i]) || 0;
    out.push({ name: f[2]!, readSectors: n(5), writeSectors: n(9), ioTicksMs: n(12) });
  }
  return out;
}

/** Devices that are not disks of their own: loop and RAM devices, optical drives, device-mapper (its disks are counted). */
const VIRTUAL = /^(loop|ram|zram|sr|fd|dm-|md)\d*/;

/**
 * The devices to count: the `stats.disk` names when configured (as SRS), else
 * every whole disk (partitions are left out: they would count their disk twice).
 */
export function selectDisks(devices: readonly DiskDevice[], configured: readonly string[]): DiskDevice[] {
  if (configured.length > 0) return devices.filter((d) => configured.includes(d.name));
  const names = devices.map((d) => d.name);
  const isPartition = (name: string): boolean => names.some((disk) => disk !== name && name.startsWith(disk) && /^p?\d+$/.test(name.slice(disk.length)));
  return devices.filter((d) => !VIRTUAL.test(d.name) && !isPartition(d.name));
}

export interface NetDevice {
  name: string;
  recvBytes: number;
  sendBytes: number;
}

/** /proc/net/dev: two header lines, then `name: rbytes rpackets ... (8 receive fields) sbytes ...`. */
export function parseNetDev(text: string): NetDevice[] {
  const out: NetDevice[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/);
    if (name === '' || f.length < 9 || !/^\d+$/.test(f[0]!)) continue;
    out.push({ name, recvBytes: Number(f[0]) || 0, sendBytes: Number(f[8]) || 0 });
  }
  return out;
}

/** True for a public IPv4 address (SRS's `is_internet`: not loopback, 10/8, 172.16/12 or 192.168/16). */
export function isInternetIpv4(addr: string): boolean {
  const p = addr.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return false;
  const [a, b] = p as [number, number, number, number];
  if (a === 127 || a === 10 || a === 0) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 169 && b === 254) return false;
  return true;
}

export interface SocketCounts {
  /** TCP sockets allocated (any state but TIME_WAIT). */
  tcpAlloc: number;
  tcpTimeWait: number;
  udpInUse: number;
}

/** /proc/net/sockstat: `TCP: inuse N orphan N tw N alloc N mem N`, `UDP: inuse N mem N`. */
export function parseSockstat(text: string): SocketCounts | null {
  const field = (line: string | undefined, key: string): number => {
    const m = line ? new RegExp(`\\b${key} (\\d+)`).exec(line) : null;
    return m ? Number(m[1]) : 0;
  };
  const lines = text.split('\n');
  const tcp = lines.find((l) => l.startsWith('TCP: '));
  const udp = lines.find((l) => l.startsWith('UDP: '));
  if (!tcp && !udp) return null;
  return { tcpAlloc: field(tcp, 'alloc'), tcpTimeWait: field(tcp, 'tw'), udpInUse: field(udp, 'inuse') };
}

/** `CurrEstab` of /proc/net/snmp (a `Tcp:` line of names followed by a `Tcp:` line of values). */
export function parseSnmpTcpEstablished(text: string): number | null {
  const lines = text.split('\n').filter((l) => l.startsWith('Tcp: '));
  if (lines.length < 2) return null;
  const names = lines[0]!.trim().split(/\s+/);
  const values = lines[1]!.trim().split(/\s+/);
  const i = names.indexOf('CurrEstab');
  if (i < 0) return null;
  const v = Number(values[i]);
  return Number.isFinite(v) ? v : null;
}

/** /proc/uptime: `uptime idle` in seconds (idle summed over the CPUs). */
export function parseUptime(text: string): { uptime: number; idle: number } | null {
  const t = text.trim();
  if (t === '') return null;
  const [u, i] = t.split(/\s+/).map(Number);
  if (u === undefined || !Number.isFinite(u)) return null;
  return { uptime: u, idle: i !== undefined && Number.isFinite(i) ? i : 0 };
}
