/**
 * Where one forward goes: a `destination` entry or a backend URL turned into
 * the RTMP connect/publish SRS would send (SRS-CONTRACTS §1.3, §3.5).
 *
 * - `host[:port]` keeps the stream's app, stream, param and vhost: tcUrl
 *   `rtmp://host:port/app`, publish `stream?param&vhost=v` (the vhost query
 *   only for a named vhost, as SRS's generated URLs).
 * - `host:port/app/stream[?q]` and `rtmp://host[:port]/app/stream[?q]` name
 *   the target themselves; `[vhost]`, `[app]`, `[stream]` are replaced.
 * - `rtmps://host[:port]/app/stream` goes over TLS (default port 443), the
 *   destination's certificate verified; `srt://` is refused (no client yet).
 * - With `forward { rtmps on; }` (SRS 7) the entries without a scheme go over
 *   TLS as well (their port stays the one written, 1935 when none).
 */
import { DEFAULT_VHOST } from '../../config/vhost-config.js';
import { parseUrlRequest } from '../../protocol/stream-url.js';

export interface ForwardTarget {
  host: string;
  port: number;
  /** The app in RTMP connect. */
  app: string;
  tcUrl: string;
  /** The name in RTMP publish, with its query. */
  publishName: string;
  /** The stream key the target sees (for the loop check): its vhost (as named in the URL), app, stream. */
  vhost: string;
  stream: string;
  /** `rtmp://host:port/app/stream?query`, for logs and the API. */
  url: string;
  /** RTMPS (an `rtmps://` destination). */
  tls: boolean;
}

/** The stream being forwarded, as its publisher named it. */
export interface ForwardedStream {
  vhost: string;
  app: string;
  stream: string;
  /** The publisher's query with its `?`, or ''. */
  param: string;
}

export type TargetParse = { ok: true; target: ForwardTarget } | { ok: false; reason: string };

const DEFAULT_RTMP_PORT = 1935;

function withVhost(param: string, vhost: string): string {
  if (vhost === DEFAULT_VHOST || /(^|[?&])vhost=/.test(param)) return param;
  return param ? `${param}&vhost=${vhost}` : `?vhost=${vhost}`;
}

function fill(template: string, s: ForwardedStream): string {
  return template.replaceAll('[vhost]', s.vhost).replaceAll('[app]', s.app).replaceAll('[stream]', s.stream);
}

function hostPort(text: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:/[\]\s]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) return null;
  const port = m[2] ? Number(m[2]) : DEFAULT_RTMP_PORT;
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!, port };
}

function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Parses one destination (or backend URL) for one stream. */
export function parseForwardTarget(entry: string, s: ForwardedStream, rtmps = false): TargetParse {
  const text = entry.trim();
  const written = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  const scheme = written ?? (rtmps ? 'rtmps' : undefined);
  if (scheme !== undefined && scheme !== 'rtmp' && scheme !== 'rtmps') {
    return { ok: false, reason: `${scheme}:// destinations are not supported yet (only rtmp:// and rtmps://)` };
  }
  if (written === undefined && !text.includes('/')) {
    const hp = hostPort(text);
    if (!hp) return { ok: false, reason: 'not host[:port]' };
    const base = `${rtmps ? 'rtmps' : 'rtmp'}://${hostText(hp.host)}:${hp.port}/${s.app}`;
    const publishName = `${s.stream}${withVhost(s.param, s.vhost)}`;
    return {
      ok: true,
      target: { host: hp.host, port: hp.port, app: s.app, tcUrl: base, publishName, vhost: s.vhost, stream: s.stream, url: `${base}/${publishName}`, tls: rtmps },
    };
  }
  // A scheme-less `host:port/app/stream` keeps its port (1935 when none), also over TLS.
  const url = fill(written === undefined ? `rtmp://${text}` : text, s);
  const r = parseUrlRequest(url);
  if (!r.host || !r.stream || r.app === '__defaultApp__') return { ok: false, reason: 'needs host, app and stream' };
  if (!hostPort(hostText(r.host))) return { ok: false, reason: 'bad host' };
  if (r.port < 1 || r.port > 65535) return { ok: false, reason: 'bad port' };
  const proto = scheme === 'rtmps' ? 'rtmps' : 'rtmp';
  const tcUrl = `${proto}://${hostText(r.host)}:${r.port}/${r.app}`;
  const publishName = `${r.stream}${r.param}`;
  return {
    ok: true,
    target: { host: r.host, port: r.port, app: r.app, tcUrl, publishName, vhost: r.vhost, stream: r.stream, url: `${tcUrl}/${publishName}`, tls: proto === 'rtmps' },
  };
}

/** What the loop check knows about this server. */
export interface SelfAddress {
  /** The ports the RTMP server listens on. */
  rtmpPorts: readonly number[];
  /** The RTMPS listener's port, when on (an `rtmps://` destination is compared with it). */
  rtmpsPorts: readonly number[];
  /** Host names and addresses that reach this machine (loopback, interfaces, the publisher's tcUrl host). */
  hosts: ReadonlySet<string>;
  /** The vhost a request for `name` lands on here ('' when none). */
  resolveVhost(name: string): string;
}

/**
 * SRS refuses a forward to the host:port its publisher used (ERROR_SYSTEM_FORWARD_LOOP):
 * the stream would be published onto itself. Here the same rule, with any
 * address of this machine and the target's stream key compared, so that a
 * forward to another stream of this server stays allowed.
 */
export function isForwardLoop(t: ForwardTarget, s: ForwardedStream, self: SelfAddress): boolean {
  if (!(t.tls ? self.rtmpsPorts : self.rtmpPorts).includes(t.port)) return false;
  if (!self.hosts.has(t.host.toLowerCase())) return false;
  const vhost = self.resolveVhost(t.vhost);
  return vhost === s.vhost && t.app === s.app && t.stream === s.stream;
}
