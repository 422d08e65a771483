/**
 * `http_remux.mount` templates (`[vhost]/[app]/[stream].flv`): which request
 * path names which stream, as SRS matches them (SRS-CONTRACTS §1.4).
 */
import { DEFAULT_VHOST } from '../../config/vhost-config.js';

export interface MountMatch {
  app: string;
  stream: string;
  /** The extension that selects the format: `.flv`, later `.ts`, `.aac`, `.mp3`. */
  ext: string;
}

/**
 * Matches `path` (already percent-decoded, starting with `/`) against the
 * template of `vhost`. `[app]` may span several path segments when the
 * template has nothing after it but `/[stream]` (multi-level apps).
 */
export function matchMount(template: string, vhost: string, path: string): MountMatch | null {
  // `[vhost]/` scopes the mount to a host (the caller picked the vhost from
  // Host or ?vhost=), so the path itself starts after it.
  let t = template.replaceAll('[vhost]/', '/').replaceAll('[vhost]', vhost);
  if (vhost === DEFAULT_VHOST) t = t.replace(`${DEFAULT_VHOST}/`, '/');
  t = t.replace(/\/+/g, '/');
  if (!t.startsWith('/')) t = `/${t}`;
  const extAt = t.lastIndexOf('.');
  const ext = extAt > t.lastIndexOf('/') ? t.slice(extAt) : '';
  if (!ext || !path.endsWith(ext)) return null;
  // Same number of `/` as the template, as SRS requires.
  if (countSlashes(t) !== countSlashes(path)) return null;
  const pattern = escapeRegExp(t).replace(escapeRegExp('[app]'), '(?<app>[^/]+)').replace(escapeRegExp('[stream]'), '(?<stream>[^/]+?)');
  const m = new RegExp(`^${pattern}$`).exec(path);
  if (!m?.groups) return null;
  const app = m.groups['app'] ?? '';
  const stream = m.groups['stream'] ?? '';
  if (!app || !stream) return null;
  return { app, stream, ext };
}

function countSlashes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 47) n++;
  return n;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
