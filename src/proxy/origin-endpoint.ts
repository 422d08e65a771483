/**
 * Where to reach an origin's service: its heartbeat lists endpoints as SRS
 * writes them (`port`, `host:port`, `[v6]:port`, `udp://0.0.0.0:port`); a
 * wildcard or missing host means the origin's `ip`.
 */
import type { OriginRecord } from './origin-store.js';

export interface HostPort {
  host: string;
  port: number;
}

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);

export function parseEndpoint(text: string, ip: string): HostPort | null {
  const s = text.replace(/^[a-z]+:\/\//, '');
  const colon = s.lastIndexOf(':');
  const host = colon < 0 ? '' : s.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(colon < 0 ? s : s.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: WILDCARD.has(host) ? ip : host, port };
}

/** The first usable endpoint of a service, or null when the origin lists none. */
export function originEndpoint(origin: OriginRecord, service: 'rtmp' | 'http' | 'api' | 'srt'): HostPort | null {
  for (const e of origin[service]) {
    const hp = parseEndpoint(e, origin.ip);
    if (hp) return hp;
  }
  return null;
}
