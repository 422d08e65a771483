// Listen endpoint syntax shared by every TCP listener directive (contract §1.1):
// `port`, `ip:port`, `[v6]:port` (split on the last `:`); a bare port binds "any".

import { isIP } from 'node:net';

export interface Endpoint {
  /** IP literal without brackets, or null for the "any" address. */
  host: string | null;
  port: number;
}

/** Result of parsing: the endpoint, or the reason it is invalid. */
export type EndpointParse = { ok: true; endpoint: Endpoint } | { ok: false; reason: string };

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

export function parseEndpoint(text: string): EndpointParse {
  const colon = text.lastIndexOf(':');
  if (colon < 0) {
    const port = parsePort(text);
    if (port === null) return { ok: false, reason: `invalid listen endpoint "${text}": port must be 1..65535` };
    return { ok: true, endpoint: { host: null, port } };
  }
  let host = text.slice(0, colon);
  const port = parsePort(text.slice(colon + 1));
  if (port === null) return { ok: false, reason: `invalid listen endpoint "${text}": port must be 1..65535` };
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return { ok: false, reason: `invalid listen endpoint "${text}": bad IPv6 address` };
  } else if (isIP(host) === 0) {
    return { ok: false, reason: `invalid listen endpoint "${text}": host must be an IP address` };
  }
  return { ok: true, endpoint: { host, port } };
}

export function endpointEquals(a: Endpoint, b: Endpoint): boolean {
  return a.host === b.host && a.port === b.port;
}

/** `1935`, `127.0.0.1:1935`, `[::1]:1935`. */
export function formatEndpoint(e: Endpoint): string {
  if (e.host === null) return String(e.port);
  return isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
