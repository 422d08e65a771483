// Directives a config sets that Sluice accepts but does not act on (schema use
// 'not-yet' or 'ignored'): one warning line each, so `-t` and startup never
// pass off a config whose DVR, SRT or HTTPS server will not start as working.
// Once per directive path (two vhosts with `dvr` give one line, at the first).

import type { ConfigDirective } from './parser.js';
import { ROOT } from './schema.js';
import type { Children, Entry } from './schema-types.js';
import { envKey, envLookup, toBool, type Env } from './values.js';

/** A block that asks for nothing: `enabled off`, or no `enabled` where the default is off (and env does not turn it on). */
function switchedOff(d: ConfigDirective, entry: Entry, path: readonly string[], env: Env): boolean {
  if (entry.kind !== 'block') return false;
  const enabled = entry.children['enabled'];
  if (enabled?.kind !== 'bool') return false;
  const text = envLookup(env, [envKey([...path, 'enabled'])]) ?? d.children.find((c) => c.name === 'enabled')?.args[0];
  return !toBool(text, enabled.def);
}

/** Set to what Sluice does anyway (`daemon off`), or a feature Sluice lacks asked off (`atc off`). */
function harmless(d: ConfigDirective, entry: Entry): boolean {
  const value = d.args[0];
  if (entry.actsAs !== undefined && value === entry.actsAs) return true;
  return entry.kind === 'bool' && !entry.def && value === 'off';
}

/** Each sibling of `decidedBy`, as the block (or env) sets it or by its default, equals the directive's value. */
function decidedAlike(d: ConfigDirective, entry: Entry, block: ConfigDirective, schema: Children, path: readonly string[], env: Env): boolean {
  if (entry.decidedBy === undefined || d.args[0] === undefined) return false;
  const want = d.args[0];
  return entry.decidedBy.every((name) => {
    const sibling = schema[name];
    if (sibling === undefined || !('def' in sibling)) return false;
    const set = envLookup(env, [envKey([...path.slice(0, -1), name])]) ?? block.children.find((c) => c.name === name)?.args[0];
    return (set ?? String(sibling.def)) === want;
  });
}

function line(d: ConfigDirective, path: string, entry: Entry): string {
  const what = entry.use === 'ignored' ? 'is accepted but ignored' : 'is accepted but not acted on (not implemented yet)';
  return `${d.file}:${d.line}: "${path}" ${what}${entry.doc ? `: ${entry.doc}` : ''}`;
}

/** An acted-on directive set to one of its values Sluice does not act on (`caster gb28181`). */
function valueLine(d: ConfigDirective, path: string): string {
  return `${d.file}:${d.line}: "${path} ${d.args[0] ?? ''}" is accepted but not acted on (not implemented yet)`;
}

/**
 * Warning lines `file:line: "path" is accepted but ...`, in file order. A
 * directive already named by `known` (legacy warnings at the same file:line)
 * is not warned twice.
 */
export function inertDirectives(root: ConfigDirective, env: Env, known: readonly string[] = []): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  // Only a warning that already says "accepted but ..." stands for this one: a
  // legacy move (`atc` into `play {}`) does not tell that atc is not acted on.
  const knownAt = new Set(known.filter((w) => w.includes(' is accepted but ')).map((w) => w.slice(0, w.indexOf(': '))));
  const walk = (block: ConfigDirective, schema: Children, path: readonly string[]): void => {
    for (const d of block.children) {
      const entry = Object.prototype.hasOwnProperty.call(schema, d.name) ? schema[d.name] : undefined;
      if (entry === undefined) continue; // validation refuses it
      const here = [...path, d.name];
      const key = here.join('.');
      if (entry.use === 'used') {
        if (entry.kind === 'block' && !switchedOff(d, entry, here, env)) walk(d, entry.children, here);
        else if (entry.notActedOn?.includes(d.args[0] ?? '') === true && !seen.has(`${key} ${d.args[0]}`)) {
          seen.add(`${key} ${d.args[0]}`);
          out.push(valueLine(d, key));
        }
        continue;
      }
      if (entry.reportedWith !== undefined) continue;
      if (seen.has(key) || switchedOff(d, entry, here, env) || harmless(d, entry) || decidedAlike(d, entry, block, schema, here, env) || knownAt.has(`${d.file}:${d.line}`)) continue;
      seen.add(key);
      out.push(line(d, key, entry));
    }
  };
  walk(root, ROOT.children, []);
  return out;
}
