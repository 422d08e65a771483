// Typed reads of one config block with SRS's getter rules: first directive wins,
// empty arg means default, a non-empty env var `SRS_<PATH>` wins over the file.
// The block's schema gives each directive's kind, default and env rule, so a
// reader names a directive and gets its typed value (a typo does not compile).

import { ConfigError, findChild, findChildren, type ConfigDirective } from './parser.js';
import { parseEndpoint, type Endpoint } from './endpoint.js';
import type { BlockNames, Children, ChildrenOf, Entry, ValueEntry, ValueNames, ValueOf } from './schema-types.js';
import { atof, atoi, envKey, envLookup, toBool, type Env } from './values.js';

export class Scope<C extends Children = Children> {
  constructor(
    readonly node: ConfigDirective | undefined,
    /** Path used to name env overrides; null for sections SRS gives no env vars. */
    readonly envPath: readonly string[] | null,
    readonly env: Env,
    readonly schema: C,
    /** Where to blame a bad value that came from env. */
    readonly fallbackFile = '<config>',
  ) {}

  private entry(name: string): Entry {
    const e = this.schema[name];
    if (e === undefined) throw new Error(`config schema has no directive "${name}"`);
    return e;
  }

  /** The first `name` block; its env path follows the schema (a block may have none). */
  child<N extends BlockNames<C>>(name: N): Scope<ChildrenOf<C[N]>> {
    const e = this.entry(name);
    const children = (e.kind === 'block' ? e.children : {}) as ChildrenOf<C[N]>;
    const envPath = this.envPath === null || e.env === false ? null : [...this.envPath, name];
    return new Scope(findChild(this.node, name), envPath, this.env, children, this.fallbackFile);
  }

  /** Every `name` block (repeatable blocks), each read without env overrides. */
  each<N extends BlockNames<C>>(name: N): Array<Scope<ChildrenOf<C[N]>>> {
    const e = this.entry(name);
    const children = (e.kind === 'block' ? e.children : {}) as ChildrenOf<C[N]>;
    return findChildren(this.node, name).map((d) => new Scope(d, null, this.env, children, this.fallbackFile));
  }

  directive(name: keyof C & string): ConfigDirective | undefined {
    return findChild(this.node, name);
  }

  directives(name: keyof C & string): ConfigDirective[] {
    return findChildren(this.node, name);
  }

  /** The directive's typed value; `def` replaces the schema default when it is derived. */
  get<N extends ValueNames<C>>(name: N, def?: ValueOf<C[N]>): ValueOf<C[N]> {
    const e = this.entry(name) as ValueEntry;
    return this.read(name, e, def) as ValueOf<C[N]>;
  }

  /** env value, else arg0 of the first directive; undefined when unset or empty. */
  raw(name: keyof C & string): string | undefined {
    return this.rawWith(name, this.entry(name));
  }

  private read(name: string, e: ValueEntry, def: unknown): boolean | number | string | string[] | Endpoint {
    switch (e.kind) {
      case 'bool': {
        const d = (def as boolean | undefined) ?? e.def;
        const v = this.rawWith(name, e);
        // The family follows the default: prefer-true when it is on.
        return v === undefined ? d : toBool(v, d);
      }
      case 'int': {
        const v = this.rawWith(name, e);
        return v === undefined ? ((def as number | undefined) ?? e.def) : atoi(v);
      }
      case 'float': {
        const v = this.rawWith(name, e);
        return v === undefined ? ((def as number | undefined) ?? e.def) : atof(v);
      }
      case 'str':
        return this.rawWith(name, e) ?? (def as string | undefined) ?? e.def;
      case 'list': {
        const l = this.list(name, e);
        return l.length === 0 ? [...((def as string[] | undefined) ?? e.def)] : l;
      }
      case 'endpoint':
        return this.endpoint(name, e, (def as Endpoint | undefined) ?? { host: null, port: e.def });
    }
  }

  private envName(name: string, e: Entry): string | null {
    return this.envPath === null || e.env === false ? null : envKey([...this.envPath, name]);
  }

  private envValue(name: string, e: Entry): string | undefined {
    const own = this.envName(name, e);
    const aliases = e.aliases ?? [];
    return envLookup(this.env, own === null ? aliases : [own, ...aliases]);
  }

  private rawWith(name: string, e: Entry): string | undefined {
    const v = this.envValue(name, e) ?? findChild(this.node, name)?.args[0];
    return v === undefined || v === '' ? undefined : v;
  }

  /** All args of the first directive, or the env value split on whitespace. */
  args(name: keyof C & string): string[] {
    return this.list(name, this.entry(name));
  }

  private list(name: string, e: Entry): string[] {
    const v = this.envValue(name, e);
    if (v !== undefined) return v.split(/\s+/).filter((s) => s !== '');
    return [...(findChild(this.node, name)?.args ?? [])];
  }

  /** A TCP listen endpoint (first arg); a bad value is a ConfigError at the directive. */
  private endpoint(name: string, e: Entry, def: Endpoint): Endpoint {
    const text = this.rawWith(name, e);
    if (text === undefined) return def;
    const r = parseEndpoint(text);
    if (r.ok) return r.endpoint;
    const d = findChild(this.node, name);
    const envName = this.envName(name, e);
    if (d !== undefined && (envName === null || envLookup(this.env, [envName]) === undefined)) {
      throw new ConfigError(d.file, d.line, r.reason);
    }
    throw new ConfigError(envName ?? this.fallbackFile, 0, r.reason);
  }
}
