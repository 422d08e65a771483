/**
 * Request identity as SRS derives it: (vhost, app, stream, param) from an RTMP
 * tcUrl + stream name, or from any full URL (HTTP, WebRTC streamurl, forward).
 * The steps follow SRS's discovery algorithm (SRS-CONTRACTS §1.2) so that the
 * same publish URL lands on the same stream key in both servers.
 */

import { DEFAULT_VHOST } from '../config/vhost-config.js';

export const DEFAULT_APP = '__defaultApp__';

export interface StreamRequest {
  schema: string;
  host: string;
  port: number;
  vhost: string;
  app: string;
  stream: string;
  /** Query with its leading `?` (SRS keeps it so), or '' when there is none. */
  param: string;
  tcUrl: string;
}

const DEFAULT_PORTS: Record<string, number> = { rtmp: 1935, rtmps: 443, https: 443, http: 80, webrtc: 80, srt: 10080 };

function stripChars(s: string, chars: string): string {
  let out = '';
  for (const c of s) if (!chars.includes(c)) out += c;
  return out;
}

function trimSlashes(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s[a] === '/') a++;
  while (b > a && s[b - 1] === '/') b--;
  return s.slice(a, b);
}

function queryValue(query: string, key: string): string | undefined {
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k === key) return eq < 0 ? '' : safeDecode(part.slice(eq + 1));
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Parses an RTMP-style (tcUrl, stream) pair. `stream` may carry its own query
 * (`livestream?token=x`, as OBS sends it).
 */
export function parseStreamRequest(tcUrl: string, stream: string): StreamRequest {
  // Step 1: legacy `...vhost...` form.
  const tc = tcUrl.replaceAll('...vhost...', '?vhost=');
  const streamPart = stream.replaceAll('...vhost...', '?vhost=');
  // Step 2: one full URL.
  let full = `${tc}/${streamPart}`;
  // Step 3: FMLE style `rtmp://ip/app?k=v/stream` → query moved after the stream.
  const lastSlash = full.lastIndexOf('/');
  const q = full.search(/[?#]/);
  if (q >= 0 && q < lastSlash) {
    const query = full.slice(q, lastSlash);
    full = full.slice(0, q) + full.slice(lastSlash) + query;
  }
  // Step 4: `_definst_` is noise.
  full = full.replaceAll('/_definst_', '');
  return parseFullUrl(full, tc, true);
}

/** Parses one full URL such as `http://host:8080/live/livestream.flv?vhost=v`. */
export function parseUrlRequest(url: string): StreamRequest {
  return parseFullUrl(url, url, false);
}

function parseFullUrl(full: string, tcUrlIn: string, rtmp: boolean): StreamRequest {
  // Step 5: schema, host, port, path, query, fragment.
  let rest = full;
  let schema = '';
  const schemaEnd = rest.indexOf('://');
  if (schemaEnd >= 0) {
    schema = rest.slice(0, schemaEnd).toLowerCase();
    rest = rest.slice(schemaEnd + 3);
  }
  let fragment = '';
  const hashAt = rest.indexOf('#');
  if (hashAt >= 0) {
    fragment = rest.slice(hashAt);
    rest = rest.slice(0, hashAt);
  }
  let query = '';
  const qAt = rest.indexOf('?');
  if (qAt >= 0) {
    query = rest.slice(qAt + 1);
    rest = rest.slice(0, qAt);
  }
  const pathAt = rest.indexOf('/');
  const authority = pathAt >= 0 ? rest.slice(0, pathAt) : rest;
  const path = pathAt >= 0 ? rest.slice(pathAt) : '';
  let host = authority;
  let port = DEFAULT_PORTS[schema] ?? 80;
  const hostPort = /^\[([^\]]*)\](?::(\d+))?$/.exec(authority) ?? /^([^:]*)(?::(\d+))?$/.exec(authority);
  if (hostPort) {
    host = hostPort[1] ?? '';
    if (hostPort[2] !== undefined) port = Number(hostPort[2]);
  }
  // Step 6: stream = last path segment, app = everything before it.
  // RTMP: tcUrl + '/' + stream, so a trailing '/' means an empty stream.
  const trimmedPath = rtmp ? path : path.replace(/\/+$/, '');
  const lastSlash = trimmedPath.lastIndexOf('/');
  let stream = lastSlash >= 0 ? trimmedPath.slice(lastSlash + 1) : '';
  let app = lastSlash >= 0 ? trimmedPath.slice(0, lastSlash) : '';
  if (!rtmp && stream === '' && app === '') stream = '';
  // Step 7: param keeps its `?`.
  let param = query || fragment ? `?${query}${fragment}` : '';
  // Step 8: vhost from query, else host.
  let vhost = queryValue(query, 'vhost') ?? queryValue(query, 'domain') ?? host;
  if (queryValue(query, 'vhost') === DEFAULT_VHOST) {
    vhost = host;
    const keys = query.split('&').filter((p) => p !== '');
    if (keys.length === 1) param = fragment ? `?${fragment}` : '';
  }
  // Step 9: strip noise.
  host = stripChars(host, '/ \r\n\t');
  vhost = stripChars(vhost, '/ \r\n\t');
  app = trimSlashes(stripChars(safeDecode(app), ' \r\n\t'));
  stream = trimSlashes(stripChars(safeDecode(stream), ' \r\n\t'));
  // Step 10 (RTMP): an empty stream may hide in the app or the param.
  if (rtmp && stream === '') {
    const appSlash = app.indexOf('/');
    if (appSlash >= 0) {
      stream = app.slice(appSlash + 1);
      app = app.slice(0, appSlash);
      const sq = stream.indexOf('?');
      if (sq >= 0) {
        param = stream.slice(sq);
        stream = stream.slice(0, sq);
      }
    } else if (param.includes('/')) {
      stream = param.slice(param.indexOf('/') + 1);
    }
  }
  if (app === '') app = DEFAULT_APP;
  return { schema, host, port, vhost, app, stream, param, tcUrl: tcUrlIn };
}

/** SRS's stream_url: `/app/stream`, or `vhost/app/stream` for a named vhost. */
export function streamUrl(vhost: string, app: string, stream: string): string {
  return vhost === DEFAULT_VHOST ? `/${app}/${stream}` : `${vhost}/${app}/${stream}`;
}

/**
 * Whether a name from the network is safe to become part of a stream key and,
 * later, of a file path: no traversal, no control characters, bounded length.
 */
export function isSafeStreamName(name: string): boolean {
  if (name.length === 0 || name.length > 256) return false;
  if (name === '.' || name === '..') return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(name)) return false;
  for (const seg of name.split('/')) if (seg === '..' || seg === '.' || seg === '') return false;
  return true;
}

/**
 * The RTMP URL SRS generates toward another server (forward, edge, origin
 * cluster redirect): `rtmp://server:port/app/stream?param`, with `vhost=`
 * appended when the param has none and the vhost is a named one (or the
 * host the client used is a name, not an IPv4 address).
 */
export function generateRtmpUrl(server: string, port: number, host: string, vhost: string, app: string, stream: string, param: string): string {
  let query = param;
  if (!query.includes('vhost=')) {
    const guess = vhost !== DEFAULT_VHOST ? vhost : /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? '' : host;
    if (guess) query += `&vhost=${guess}`;
  }
  query = query.replace(/^[&?]+/, '');
  return `rtmp://${server}:${port}/${app}/${stream}${query ? `?${query}` : ''}`;
}
