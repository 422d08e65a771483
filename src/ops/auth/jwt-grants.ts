/**
 * What a token allows: the `sluice` claim (its name is configurable) lists
 * stream patterns per action, `{ "publish": ["live/*"], "play": ["live/a"] }`.
 * A pattern names `app/stream`; `*` matches any run of characters (also
 * `/`), every other character itself. An action absent from the claim is not
 * granted. A bare string stands for a one-element list.
 */
export type JwtAction = 'publish' | 'play';

/** At most this many patterns per action are read (a token is client input). */
const MAX_PATTERNS = 64;
const MAX_PATTERN_CHARS = 256;

/** The patterns of one action in a verified payload, or null when the claim is missing or malformed. */
export function grantsOf(payload: Readonly<Record<string, unknown>>, claim: string, action: JwtAction): string[] | null {
  const c = payload[claim];
  if (c === null || typeof c !== 'object' || Array.isArray(c)) return null;
  const v = (c as Record<string, unknown>)[action];
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
  return list.filter((p): p is string => typeof p === 'string' && p.length <= MAX_PATTERN_CHARS).slice(0, MAX_PATTERNS);
}

/** Whether `app/stream` matches one glob pattern (`*` = any run of characters). */
export function streamMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === name;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i]!;
    const found = name.indexOf(p, at);
    if (found < 0 || found + p.length > end) return false;
    at = found + p.length;
  }
  return true;
}

export function granted(patterns: readonly string[], app: string, stream: string): boolean {
  const name = `${app}/${stream}`;
  return patterns.some((p) => streamMatches(p, name));
}
