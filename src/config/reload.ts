// What changed between two loaded configs (contract §5.5), so SIGHUP can apply
// vhost-level changes live and report the rest (e.g. "restart needed").

import type { Endpoint } from './endpoint.js';
import type { ServerConfig } from './server-config.js';
import type { VhostConfig } from './vhost-config.js';

/** Vhost parts, named after their config directives. */
export type VhostSection =
  | 'enabled'
  | 'min_latency'
  | 'tcp_nodelay'
  | 'chunk_size'
  | 'in_ack_size'
  | 'out_ack_size'
  | 'play'
  | 'publish'
  | 'http_remux'
  | 'http_static'
  | 'hls'
  | 'hds'
  | 'dash'
  | 'dvr'
  | 'http_hooks'
  | 'security'
  | 'refer'
  | 'forward'
  | 'cluster'
  | 'rtc'
  | 'srt'
  | 'exec'
  | 'ingest'
  | 'transcode';

const VHOST_SECTIONS: ReadonlyArray<[VhostSection, keyof VhostConfig]> = [
  ['enabled', 'enabled'],
  ['min_latency', 'minLatency'],
  ['tcp_nodelay', 'tcpNodelay'],
  ['chunk_size', 'chunkSize'],
  ['in_ack_size', 'inAckSize'],
  ['out_ack_size', 'outAckSize'],
  ['play', 'play'],
  ['publish', 'publish'],
  ['http_remux', 'httpRemux'],
  ['http_static', 'httpStatic'],
  ['hls', 'hls'],
  ['hds', 'hds'],
  ['dash', 'dash'],
  ['dvr', 'dvr'],
  ['http_hooks', 'httpHooks'],
  ['security', 'security'],
  ['refer', 'refer'],
  ['forward', 'forward'],
  ['cluster', 'cluster'],
  ['rtc', 'rtc'],
  ['srt', 'srt'],
  ['exec', 'exec'],
  ['ingest', 'ingests'],
  ['transcode', 'transcodes'],
];

/** Root-level keys compared by the diff, with whether SRS applies them on reload. */
const GLOBAL_KEYS: ReadonlyArray<[keyof ServerConfig, boolean]> = [
  ['maxConnections', true],
  ['chunkSize', true],
  ['pithyPrintMs', true],
  ['rtcServer', true],
  ['pid', false],
  ['serverId', false],
  ['daemon', false],
  ['logLevel', false],
  ['logTank', false],
  ['logFile', false],
  ['utcTime', false],
  ['ffLogDir', false],
  ['ffLogLevel', false],
  ['workDir', false],
  ['asprocess', false],
  ['graceStartWait', true],
  ['graceFinalWait', true],
  ['forceGraceQuit', true],
  ['emptyIpOk', true],
  ['inotifyAutoReload', true],
  ['httpApi', false],
  ['httpServer', false],
  ['srtServer', false],
  ['exporter', false],
  ['heartbeat', true],
  ['stats', true],
  ['circuitBreaker', true],
  ['streamCasters', false],
];

export type GlobalKey = (typeof GLOBAL_KEYS)[number][0];

export type ConfigChange =
  | { kind: 'listen'; before: Endpoint[]; after: Endpoint[] }
  /** `reloadable` false: the new value takes effect only after a restart. */
  | { kind: 'global'; key: GlobalKey; reloadable: boolean }
  | { kind: 'vhost-added'; vhost: string }
  | { kind: 'vhost-removed'; vhost: string }
  | { kind: 'vhost-changed'; vhost: string; sections: VhostSection[] };

/** Structural equality for the plain data of a config (no functions compared). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ka = Object.keys(a as object).filter((k) => typeof (a as Record<string, unknown>)[k] !== 'function');
  const kb = Object.keys(b as object).filter((k) => typeof (b as Record<string, unknown>)[k] !== 'function');
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Lists the differences; an empty array means nothing to apply. */
export function diffConfig(old: ServerConfig, next: ServerConfig): ConfigChange[] {
  const changes: ConfigChange[] = [];
  if (!deepEqual(old.listen, next.listen)) {
    changes.push({ kind: 'listen', before: old.listen, after: next.listen });
  }
  for (const [key, reloadable] of GLOBAL_KEYS) {
    if (!deepEqual(old[key], next[key])) changes.push({ kind: 'global', key, reloadable });
  }

  const oldByName = new Map(old.vhosts.map((v) => [v.name, v]));
  const nextByName = new Map(next.vhosts.map((v) => [v.name, v]));
  for (const v of old.vhosts) {
    if (!nextByName.has(v.name)) changes.push({ kind: 'vhost-removed', vhost: v.name });
  }
  for (const v of next.vhosts) {
    const before = oldByName.get(v.name);
    if (before === undefined) {
      changes.push({ kind: 'vhost-added', vhost: v.name });
      continue;
    }
    const sections = VHOST_SECTIONS.filter(([, key]) => !deepEqual(before[key], v[key])).map(([s]) => s);
    if (sections.length > 0) changes.push({ kind: 'vhost-changed', vhost: v.name, sections });
  }
  return changes;
}
