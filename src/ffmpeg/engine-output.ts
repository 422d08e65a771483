/**
 * SRS's variables in an engine's `output` (srs_app_encoder / srs_app_ingest):
 * [vhost] [port] [app] [stream] [param] [engine] and the time ones
 * ([2006] [01] [02] [15] [04] [05] [999] [timestamp], local time), replaced in
 * one pass. An ingest knows only [vhost] and [port] (and the time), as in SRS.
 * Also: which stream an RTMP output URL publishes, in either of SRS's forms
 * (`/app?vhost=v/stream` and `/app/stream?vhost=v`).
 */
import { parseStreamRequest } from '../protocol/stream-url.js';

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function expandOutput(template: string, vars: Readonly<Record<string, string>>, d: Date): string {
  const all: Record<string, string> = {
    ...vars,
    timestamp: String(d.getTime()),
    '2006': String(d.getFullYear()),
    '01': pad(d.getMonth() + 1),
    '02': pad(d.getDate()),
    '15': pad(d.getHours()),
    '04': pad(d.getMinutes()),
    '05': pad(d.getSeconds()),
    '999': pad(d.getMilliseconds(), 3),
  };
  return template.replace(/\[([A-Za-z0-9_]+)\]/g, (whole, name: string) => (Object.hasOwn(all, name) ? all[name]! : whole));
}

/** The stream an rtmp:// URL publishes (the vhost as the URL names it); null for another scheme or no stream. */
export function outputStream(url: string): { vhost: string; app: string; stream: string } | null {
  if (!url.startsWith('rtmp://')) return null;
  const q = url.indexOf('?');
  // The stream is the last path word, also after an FMLE-style `?vhost=v/`.
  const cut = q >= 0 && url.indexOf('/', q) < 0 ? url.lastIndexOf('/', q) : url.lastIndexOf('/');
  if (cut < 'rtmp://'.length) return null;
  const r = parseStreamRequest(url.slice(0, cut), url.slice(cut + 1));
  return r.stream === '' ? null : { vhost: r.vhost, app: r.app, stream: r.stream.replace(/\?.*$/, '') };
}
