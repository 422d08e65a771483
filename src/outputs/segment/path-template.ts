/**
 * SRS path templates (`[app]/[stream]-[seq].ts`, `[vhost]`, date parts) and
 * the jail rule: a file path built from a publisher's names must resolve
 * inside its configured directory.
 */

export interface TemplateVars {
  vhost: string;
  app: string;
  stream: string;
  seq?: number;
  /** ms, for `[duration]`. */
  durationMs?: number;
  /** For `[timestamp]`; ms since epoch. */
  timestamp?: number;
  /** Wall clock for date parts; defaults to now. */
  now?: Date;
  utc?: boolean;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function applyTemplate(template: string, v: TemplateVars): string {
  const d = v.now ?? new Date();
  const utc = v.utc ?? false;
  let s = template.replaceAll('[vhost]', v.vhost).replaceAll('[app]', v.app).replaceAll('[stream]', v.stream);
  if (v.seq !== undefined) s = s.replaceAll('[seq]', String(v.seq));
  if (v.durationMs !== undefined) s = s.replaceAll('[duration]', String(Math.round(v.durationMs)));
  s = s.replaceAll('[timestamp]', String(v.timestamp ?? d.getTime()));
  s = s
    .replaceAll('[2006]', String(utc ? d.getUTCFullYear() : d.getFullYear()))
    .replaceAll('[01]', pad((utc ? d.getUTCMonth() : d.getMonth()) + 1))
    .replaceAll('[02]', pad(utc ? d.getUTCDate() : d.getDate()))
    .replaceAll('[15]', pad(utc ? d.getUTCHours() : d.getHours()))
    .replaceAll('[04]', pad(utc ? d.getUTCMinutes() : d.getMinutes()))
    .replaceAll('[05]', pad(utc ? d.getUTCSeconds() : d.getSeconds()))
    .replaceAll('[999]', pad(utc ? d.getUTCMilliseconds() : d.getMilliseconds(), 3));
  return s;
}

/** `root/rel` as configured (relative roots stay relative), for hooks and logs. */
export function configuredPath(root: string, rel: string): string {
  return `${root.replace(/\/+$/, '')}/${rel.replace(/^\/+/, '')}`;
}

/** Directory part of a `/`-separated path ('' when none). */
export function urlDirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}
