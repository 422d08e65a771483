// Typed reads of one config block with SRS's getter rules: first directive wins,
// empty arg means default, a non-empty env var `SRS_<PATH>` wins over the file.

import { ConfigError, findChild, findChildren, type ConfigDirective } from './parser.js';
import { parseEndpoint, type Endpoint } from './endpoint.js';
import { atof, atoi, envKey, envLookup, toBool, type Env } from './values.js';

export class Scope {
  constructor(
    readonly node: ConfigDirective | undefined,
    /** Path used to name env overrides; null for sections SRS gives no env vars. */
    readonly envPath: readonly string[] | null,
    readonly env: Env,
    /** Where to blame a bad value that came from the file. */
    readonly fallbackFile = '<config>',
  ) {}

  child(name: string): Scope {
    return new Scope(findChild(this.node, name), this.envPath === null ? null : [...this.envPath, name], this.env, this.fallbackFile);
  }

  /** Same block, no env overrides below this point. */
  withoutEnv(): Scope {
    return new Scope(this.node, null, this.env, this.fallbackFile);
  }

  directive(name: string): ConfigDirective | undefined {
    return findChild(this.node, name);
  }

  directives(name: string): ConfigDirective[] {
    return findChildren(this.node, name);
  }

  envName(name: string): string | null {
    return this.envPath === null ? null : envKey([...this.envPath, name]);
  }

  private envValue(name: string, aliases: readonly string[]): string | undefined {
    const own = this.envName(name);
    const keys = own === null ? aliases : [own, ...aliases];
    return envLookup(this.env, keys);
  }

  /** env value, else arg0 of the first directive; undefined when unset or empty. */
  raw(name: string, aliases: readonly string[] = []): string | undefined {
    const e = this.envValue(name, aliases);
    if (e !== undefined) return e;
    const v = findChild(this.node, name)?.args[0];
    return v === undefined || v === '' ? undefined : v;
  }

  str(name: string, def: string, aliases: readonly string[] = []): string {
    return this.raw(name, aliases) ?? def;
  }

  int(name: string, def: number, aliases: readonly string[] = []): number {
    const v = this.raw(name, aliases);
    return v === undefined ? def : atoi(v);
  }

  float(name: string, def: number, aliases: readonly string[] = []): number {
    const v = this.raw(name, aliases);
    return v === undefined ? def : atof(v);
  }

  /** Boolean of the family implied by `def` (prefer-true when def is true). */
  bool(name: string, def: boolean, aliases: readonly string[] = []): boolean {
    const v = this.raw(name, aliases);
    return v === undefined ? def : toBool(v, def);
  }

  /** All args of the first directive, or the env value split on whitespace. */
  list(name: string, aliases: readonly string[] = []): string[] {
    const e = this.envValue(name, aliases);
    if (e !== undefined) return e.split(/\s+/).filter((s) => s !== '');
    return [...(findChild(this.node, name)?.args ?? [])];
  }

  /** A TCP listen endpoint (first arg); a bad value is a ConfigError at the directive. */
  endpoint(name: string, def: Endpoint): Endpoint {
    const text = this.raw(name);
    if (text === undefined) return def;
    const r = parseEndpoint(text);
    if (r.ok) return r.endpoint;
    const d = findChild(this.node, name);
    const envName = this.envName(name);
    if (d !== undefined && (envName === null || envLookup(this.env, [envName]) === undefined)) {
      throw new ConfigError(d.file, d.line, r.reason);
    }
    throw new ConfigError(envName ?? this.fallbackFile, 0, r.reason);
  }
}
