/**
 * The one path jail: every file Sluice reads or writes for a name that came
 * from the network (static files, HLS/DASH segments, recordings) is resolved
 * here, and a path that would leave its root is refused.
 */
import { resolve, sep } from 'node:path';

/** The absolute path of `rel` under `root`, or null when it would leave root (or holds NUL or a backslash). */
export function jailedPath(root: string, rel: string): string | null {
  if (rel.includes('\0') || rel.includes('\\')) return null;
  const base = resolve(root);
  const abs = resolve(base, `.${rel.startsWith('/') ? '' : '/'}${rel}`);
  if (abs !== base && !abs.startsWith(base + sep)) return null;
  return abs;
}

/** True when `real` (a path with symlinks resolved) is `realRoot` or inside it. */
export function isInside(realRoot: string, real: string): boolean {
  return real === realRoot || real.startsWith(realRoot + sep);
}
