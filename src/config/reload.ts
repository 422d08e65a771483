// What changed between two loaded configs (contract §5.5), so SIGHUP can apply
// vhost-level changes live and report the rest (e.g. "restart needed"). The
// sections and root keys, and whether each reloads, come from the schema.

import type { Endpoint } from './endpoint.js';
import { ROOT, VHOST, type VhostSchema } from './schema.js';
import type { ServerConfig } from './server-config.js';
import type { VhostConfig } from './vhost-config.js';

/** Vhost parts, named after their config directives (the vhost block's children in the schema). */
export type VhostSection = keyof VhostSchema & string;

/** Root fields the diff compares (everything but the file facts, `listen` and the vhosts). */
export type GlobalKey = Exclude<keyof ServerConfig, 'file' | 'envOnly' | 'warnings' | 'inert' | 'listen' | 'vhosts' | 'getVhost'>;

/** `hls_m3u8_file` → `hlsM3u8File`. */
function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Each vhost section with its typed-view field, in schema order (the order changes are listed in). */
export const VHOST_SECTIONS: ReadonlyArray<readonly [VhostSection, keyof VhostConfig]> = Object.entries(VHOST.children).map(
  ([name, e]) => [name as VhostSection, (e.field ?? camel(name)) as keyof VhostConfig] as const,
);

/** Root fields compared by the diff, with whether SRS applies them on reload (schema entries with a field). */
export const GLOBAL_KEYS: ReadonlyArray<readonly [GlobalKey, boolean]> = Object.values(ROOT.children).flatMap((e) =>
  e.field === undefined ? [] : [[e.field as GlobalKey, e.reload === 'live'] as const],
);

export type ConfigChange =
  | { kind: 'listen'; before: Endpoint[]; after: Endpoint[] }
  /** `reloadable` false: the new value takes effect only after a restart. */
  | { kind: 'global'; key: GlobalKey; reloadable: boolean }
  | { kind: 'vhost-added'; vhost: string }
  | { kind: 'vhost-removed'; vhost: string }
  | { kind: 'vhost-changed'; vhost: string; sections: VhostSection[] };

/** Structural equality for the plain data of a config (no functions compared). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ka = Object.keys(a as object).filter((k) => typeof (a as Record<string, unknown>)[k] !== 'function');
  const kb = Object.keys(b as object).filter((k) => typeof (b as Record<string, unknown>)[k] !== 'function');
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Lists the differences; an empty array means nothing to apply. */
export function diffConfig(old: ServerConfig, next: ServerConfig): ConfigChange[] {
  const changes: ConfigChange[] = [];
  if (!deepEqual(old.listen, next.listen)) {
    changes.push({ kind: 'listen', before: old.listen, after: next.listen });
  }
  for (const [key, reloadable] of GLOBAL_KEYS) {
    if (!deepEqual(old[key], next[key])) changes.push({ kind: 'global', key, reloadable });
  }

  const oldByName = new Map(old.vhosts.map((v) => [v.name, v]));
  const nextByName = new Map(next.vhosts.map((v) => [v.name, v]));
  for (const v of old.vhosts) {
    if (!nextByName.has(v.name)) changes.push({ kind: 'vhost-removed', vhost: v.name });
  }
  for (const v of next.vhosts) {
    const before = oldByName.get(v.name);
    if (before === undefined) {
      changes.push({ kind: 'vhost-added', vhost: v.name });
      continue;
    }
    const sections = VHOST_SECTIONS.filter(([, key]) => !deepEqual(before[key], v[key])).map(([s]) => s);
    if (sections.length > 0) changes.push({ kind: 'vhost-changed', vhost: v.name, sections });
  }
  return changes;
}
