/**
 * SRS's http_static mounts (srs_app_http_static.cpp and its HTTP mux):
 * `[vhost]` in `mount` and `dir` becomes the vhost's name; the default vhost's
 * `__defaultVhost__/` becomes `/`; a mount always ends with `/`. A mount that
 * does not start with `/` is `host/path` and only answers requests whose Host
 * header is that host. The longest matching mount wins, a Host-specific one
 * before any other; the request path loses the mount's prefix inside `dir`.
 */
import type { VhostConfig } from '../../config/vhost-config.js';
import { DEFAULT_VHOST } from '../../config/vhost-config.js';

export interface StaticMount {
  /** Lower-case host the mount is for; null: any host. */
  host: string | null;
  /** Starts and ends with `/`. */
  prefix: string;
  dir: string;
  vhost: string;
}

export function vhostMounts(vhosts: readonly VhostConfig[]): StaticMount[] {
  const out: StaticMount[] = [];
  for (const v of vhosts) {
    if (!v.enabled || !v.httpStatic.enabled) continue;
    let mount = v.httpStatic.mount.replaceAll('[vhost]', v.name).replaceAll(`${DEFAULT_VHOST}/`, '/');
    if (!mount.endsWith('/')) mount += '/';
    const dir = v.httpStatic.dir.replaceAll('[vhost]', v.name);
    if (mount.startsWith('/')) {
      out.push({ host: null, prefix: mount, dir, vhost: v.name });
    } else {
      const slash = mount.indexOf('/');
      out.push({ host: mount.slice(0, slash).toLowerCase(), prefix: mount.slice(slash), dir, vhost: v.name });
    }
  }
  return out;
}

/** The Host header's host, without port or IPv6 brackets, lower case. */
export function hostOf(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  return h.replace(/:\d*$/, '');
}

/** The mount that serves `path` (already checked by safeRequestPath) and the path inside its dir. */
export function matchMount(mounts: readonly StaticMount[], host: string, path: string): { mount: StaticMount; rest: string } | null {
  let best: StaticMount | null = null;
  for (const m of mounts) {
    if (m.host !== null && m.host !== host) continue;
    if (!path.startsWith(m.prefix) && `${path}/` !== m.prefix) continue;
    if (best === null || (m.host !== null && best.host === null) || ((m.host === null) === (best.host === null) && m.prefix.length > best.prefix.length)) best = m;
  }
  if (best === null) return null;
  return { mount: best, rest: `/${path.slice(best.prefix.length)}` };
}
