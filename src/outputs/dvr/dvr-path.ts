/**
 * Where a recording goes (SRS-CONTRACTS §5.10): `dvr_path` with SRS's
 * variables expanded, FLV or MP4 chosen by its extension, and the jail. The
 * jail's root is the part of `dvr_path` before its first variable, so a
 * publisher's app or stream name (`../x`, NUL) can never place a file
 * outside the directory the operator configured.
 */
import { jailedPath } from '../../core/path-jail.js';
import { applyTemplate, configuredPath } from '../segment/path-template.js';

type DvrFormat = 'flv' | 'mp4';

export interface DvrTarget {
  format: DvrFormat;
  /** The path as configured, variables expanded (relative stays relative): what on_dvr reports. */
  file: string;
  /** The same, absolute and inside the jail. */
  abs: string;
}

/** SRS1 directory style: a dvr_path without a .flv/.mp4 suffix is a directory. */
function normalizeDvrPath(path: string): string {
  if (path.endsWith('.flv') || path.endsWith('.mp4')) return path;
  return `${path.replace(/\/+$/, '')}/[stream].[timestamp].flv`;
}

/** The fixed directory in front of the first variable (`.` when the path starts with one). */
function dvrRoot(path: string): string {
  const p = normalizeDvrPath(path);
  const firstVar = p.indexOf('[');
  const fixed = firstVar < 0 ? p : p.slice(0, firstVar);
  const slash = fixed.lastIndexOf('/');
  if (slash < 0) return '.';
  return slash === 0 ? '/' : fixed.slice(0, slash);
}

export interface DvrPathVars {
  vhost: string;
  app: string;
  stream: string;
  now: Date;
  utc: boolean;
}

/** The file of one recording, or null when the names would leave the configured directory. */
export function dvrTarget(path: string, v: DvrPathVars): DvrTarget | null {
  const p = normalizeDvrPath(path);
  const root = dvrRoot(p);
  const rel = root === '.' ? p.replace(/^\.\//, '') : p.slice(root.length + 1);
  const ms = v.now.getTime();
  // [timestamp_ms] first: SRS's newer spelling of the same Unix milliseconds.
  const expanded = applyTemplate(rel.replaceAll('[timestamp_ms]', String(ms)), { vhost: v.vhost, app: v.app, stream: v.stream, now: v.now, utc: v.utc, timestamp: ms });
  const abs = jailedPath(root, expanded);
  if (abs === null || abs === jailedPath(root, '')) return null;
  const file = root === '.' ? expanded : configuredPath(root, expanded);
  return { format: p.endsWith('.mp4') ? 'mp4' : 'flv', file, abs };
}
