/**
 * Where an edge reaches its origin for a stream: `cluster.origin` entries
 * (`host[:port]`, default port 1935) taken round-robin per (re)connect, and
 * the tcUrl SRS builds for upstream requests (SRS-CONTRACTS §1.3).
 */
import { DEFAULT_VHOST } from '../../config/vhost-config.js';

export interface OriginAddress {
  host: string;
  port: number;
}

export function parseOrigin(text: string): OriginAddress {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m) throw new Error(`invalid origin ${text}`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 1935 };
}

/** `rtmp://host:port/app?vhost=v` (the vhost query only for a named vhost). */
export function upstreamTcUrl(origin: OriginAddress, app: string, vhost: string): string {
  const base = `rtmp://${origin.host}:${origin.port}/${app}`;
  return vhost === DEFAULT_VHOST ? base : `${base}?vhost=${vhost}`;
}

/** The vhost to ask the origin for: `cluster.vhost`, where `[vhost]` is the edge's own. */
export function upstreamVhost(template: string, vhost: string): string {
  return template.replaceAll('[vhost]', vhost);
}
