// Value parsing with SRS's semantics (contract §4.1, §4.4): C-style atoi/atof
// (leading number or 0), two boolean families, and env overrides where only a
// non-empty variable wins.

/** The process environment, passed explicitly so config code stays pure. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The first non-empty value among `keys`, or undefined. */
export function envLookup(env: Env, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = env[k];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** Env var name for a config path: `['http_api', 'listen']` → `SRS_HTTP_API_LISTEN`. */
export function envKey(path: readonly string[]): string {
  return ['srs', ...path].join('_').toUpperCase();
}

/** C `atoi`: leading integer, else 0. */
export function atoi(text: string | undefined): number {
  if (text === undefined) return 0;
  const m = /^\s*[+-]?\d+/.exec(text);
  if (m === null) return 0;
  const n = Number(m[0]);
  return Number.isSafeInteger(n) ? n : n > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
}

/** C `atof`: leading decimal number, else 0. */
export function atof(text: string | undefined): number {
  if (text === undefined) return 0;
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text);
  if (m === null) return 0;
  const n = Number(m[0]);
  return Number.isFinite(n) ? n : 0;
}

/** "Prefer true" family (default on): false only for the exact value `off`. */
export function preferTrue(text: string | undefined): boolean {
  return text === undefined || text === '' || text !== 'off';
}

/** "Prefer false" family (default off): true only for the exact value `on`. */
export function preferFalse(text: string | undefined): boolean {
  return text === 'on';
}

/** Applies the family that matches a directive's default. */
export function toBool(text: string | undefined, def: boolean): boolean {
  return def ? preferTrue(text) : preferFalse(text);
}
