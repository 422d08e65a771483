/**
 * SRS's exec variables, replaced inside each word of a `publish` command in
 * one pass (a value that itself holds `[app]` is not expanded again).
 * `[url]` is SRS's srs_generate_rtmp_url: this server's RTMP port on the
 * loopback address, the app, the stream and its query, with `vhost=` added
 * for a named vhost, so the command plays the very stream that was published.
 */
import { DEFAULT_VHOST } from '../../config/vhost-config.js';
import type { StreamRequest } from '../../core/client-registry.js';

export interface ExecRequest extends StreamRequest {
  /** Where this server's RTMP listener is reached from here. */
  rtmpHost: string;
  rtmpPort: number;
}

/** `rtmp://host:port/app/stream?param&vhost=...` (SRS's srs_generate_rtmp_url). */
function execRtmpUrl(r: ExecRequest): string {
  let query = r.param.replace(/^\?/, '');
  if (r.vhost !== DEFAULT_VHOST && !/(^|&)vhost=/.test(query)) query = query === '' ? `vhost=${r.vhost}` : `${query}&vhost=${r.vhost}`;
  const host = r.rtmpHost.includes(':') ? `[${r.rtmpHost}]` : r.rtmpHost;
  return `rtmp://${host}:${r.rtmpPort}/${r.app}/${r.stream}${query === '' ? '' : `?${query}`}`;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** The value of every variable for one publish (local time, as SRS without utc_time). */
export function execVariables(r: ExecRequest, d: Date): Map<string, string> {
  return new Map([
    ['vhost', r.vhost],
    ['port', String(r.rtmpPort)],
    ['app', r.app],
    ['stream', r.stream],
    // exec has no transcode engine; SRS leaves it empty too.
    ['engine', ''],
    ['url', execRtmpUrl(r)],
    ['tcUrl', r.tcUrl],
    ['param', r.param],
    ['swfUrl', ''],
    ['pageUrl', r.pageUrl],
    ['timestamp', String(d.getTime())],
    ['2006', String(d.getFullYear())],
    ['01', pad(d.getMonth() + 1)],
    ['02', pad(d.getDate())],
    ['15', pad(d.getHours())],
    ['04', pad(d.getMinutes())],
    ['05', pad(d.getSeconds())],
    ['999', pad(d.getMilliseconds(), 3)],
  ]);
}

/** The argv of one command: each word expanded on its own, so a value never splits into more words. */
export function expandExecArgv(words: readonly string[], vars: ReadonlyMap<string, string>): string[] {
  return words.map((w) => w.replace(/\[([A-Za-z0-9_]+)\]/g, (all, name: string) => vars.get(name) ?? all));
}
