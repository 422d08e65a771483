/**
 * Where an edge reaches its origin for a stream: `cluster.origin` entries
 * (`host[:port]`, default port 1935, as SRS; Sluice also takes
 * `rtmp://host[:port]` and `rtmps://host[:port]`, RTMP over TLS, default
 * port 443) taken round-robin per (re)connect, and the tcUrl SRS builds for
 * upstream requests (SRS-CONTRACTS §1.3).
 */
import { DEFAULT_VHOST } from '../../config/vhost-config.js';

export interface OriginAddress {
  host: string;
  port: number;
  /** RTMPS: the origin's certificate is verified (system CAs or NODE_EXTRA_CA_CERTS) for `host`. */
  tls: boolean;
}

export function parseOrigin(text: string): OriginAddress {
  const scheme = /^(rtmps?):\/\/(.*?)\/?$/i.exec(text);
  const tls = scheme?.[1]!.toLowerCase() === 'rtmps';
  const rest = scheme ? scheme[2]! : text;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:/]+)(?::(\d+))?$/.exec(rest);
  if (!m) throw new Error(`invalid origin ${text}`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : tls ? 443 : 1935, tls };
}

/** `rtmp://host:port/app?vhost=v` (`rtmps://` over TLS; the vhost query only for a named vhost). */
export function upstreamTcUrl(origin: OriginAddress, app: string, vhost: string): string {
  const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host;
  const base = `${origin.tls ? 'rtmps' : 'rtmp'}://${host}:${origin.port}/${app}`;
  return vhost === DEFAULT_VHOST ? base : `${base}?vhost=${vhost}`;
}

/** The vhost to ask the origin for: `cluster.vhost`, where `[vhost]` is the edge's own. */
export function upstreamVhost(template: string, vhost: string): string {
  return template.replaceAll('[vhost]', vhost);
}
