// The shape of one config schema entry, and the helpers that write the table in
// schema.ts compactly. Kept apart so the table reads as data.

import type { Endpoint } from './endpoint.js';

/** What Sluice does with a directive (SRS's rule: never accept one silently). */
export type Use = 'used' | 'not-yet' | 'ignored';

/** What a reload does with a change (root level; vhost sections are always live). */
type Reload = 'live' | 'restart';

interface EntryInfo {
  readonly use: Use;
  /** One line for docs/CONFIG.md ('' = nothing to add to the use column). */
  readonly doc: string;
  /** The default as prose, when the value alone would mislead (derived or mode-dependent). */
  readonly defaultDoc?: string;
  readonly unit?: 'ms' | 's';
  /** Sluice extension, not in SRS. */
  readonly sluice?: boolean;
  /** false: no `SRS_*` env override (for a block: none below it either). */
  readonly env?: false;
  /** Env names read after the entry's own `SRS_<PATH>`. */
  readonly aliases?: readonly string[];
  /** Field of the typed view compared by the reload diff (root and vhost children). */
  readonly field?: string;
  readonly reload?: Reload;
  /** For a directive Sluice does not act on: the value it behaves as anyway (setting exactly that is no warning). */
  readonly actsAs?: string;
  /** For a directive Sluice acts on: values it does not (reported like a not-yet directive). */
  readonly notActedOn?: readonly string[];
  /**
   * For a not-yet directive that means something only when this sibling (itself not-yet) is on:
   * never a line of its own (`mr_latency` with `mr off` does nothing in SRS either; with `mr on`,
   * mr's line says it).
   */
  readonly reportedWith?: string;
  /**
   * For an ignored directive whose effect these siblings decide (`srt_server.latency`, which
   * recvlatency and peerlatency override): no line when each of them, as set or by its default,
   * has the directive's own value, since the server then does what the directive asks.
   */
  readonly decidedBy?: readonly string[];
}

export interface BoolEntry extends EntryInfo {
  readonly kind: 'bool';
  readonly def: boolean;
}
export interface IntEntry extends EntryInfo {
  readonly kind: 'int';
  readonly def: number;
}
export interface FloatEntry extends EntryInfo {
  readonly kind: 'float';
  readonly def: number;
}
export interface StrEntry extends EntryInfo {
  readonly kind: 'str';
  readonly def: string;
}
/** All args of the first directive (env: space-separated); `def` when empty. */
export interface ListEntry extends EntryInfo {
  readonly kind: 'list';
  readonly def: readonly string[];
}
/** A TCP listen endpoint; `def` is the port on every address. */
export interface EndpointEntry extends EntryInfo {
  readonly kind: 'endpoint';
  readonly def: number;
}
/** Read by hand in the typed view (special syntax or no value at all); `defaultDoc` says the default. */
export interface RawEntry extends EntryInfo {
  readonly kind: 'raw';
}
/** A block whose children are free-form (ffmpeg options, vendor blocks): not checked. */
export interface FreeEntry extends EntryInfo {
  readonly kind: 'free';
}
export interface BlockEntry<C extends Children = Children> extends EntryInfo {
  readonly kind: 'block';
  readonly children: C;
  /** The block's argument, for docs (`<name>`); set for blocks that may repeat. */
  readonly arg?: string;
}

export type ValueEntry = BoolEntry | IntEntry | FloatEntry | StrEntry | ListEntry | EndpointEntry;
export type Entry = ValueEntry | RawEntry | FreeEntry | BlockEntry;
export interface Children {
  readonly [name: string]: Entry;
}

/** The typed value an entry reads as. */
export type ValueOf<E> = E extends BoolEntry
  ? boolean
  : E extends IntEntry | FloatEntry
    ? number
    : E extends StrEntry
      ? string
      : E extends ListEntry
        ? string[]
        : E extends EndpointEntry
          ? Endpoint
          : never;

export type ValueNames<C extends Children> = { [K in keyof C]: C[K] extends ValueEntry ? K : never }[keyof C] & string;
export type BlockNames<C extends Children> = { [K in keyof C]: C[K] extends BlockEntry ? K : never }[keyof C] & string;
export type ChildrenOf<E> = E extends BlockEntry<infer X> ? X : never;

type Options = Omit<EntryInfo, 'use' | 'doc'>;

export const bool = (def: boolean, use: Use, doc = '', o: Options = {}): BoolEntry => ({ kind: 'bool', def, use, doc, ...o });
export const int = (def: number, use: Use, doc = '', o: Options = {}): IntEntry => ({ kind: 'int', def, use, doc, ...o });
export const float = (def: number, use: Use, doc = '', o: Options = {}): FloatEntry => ({ kind: 'float', def, use, doc, ...o });
export const str = (def: string, use: Use, doc = '', o: Options = {}): StrEntry => ({ kind: 'str', def, use, doc, ...o });
export const list = (def: readonly string[], use: Use, doc = '', o: Options = {}): ListEntry => ({ kind: 'list', def, use, doc, ...o });
export const endpoint = (port: number, use: Use, doc = '', o: Options = {}): EndpointEntry => ({ kind: 'endpoint', def: port, use, doc, ...o });
export const raw = (defaultDoc: string, use: Use, doc = '', o: Options = {}): RawEntry => ({ kind: 'raw', use, doc, defaultDoc, ...o });
export const free = (use: Use, doc = '', o: Options = {}): FreeEntry => ({ kind: 'free', use, doc, ...o });
export function block<C extends Children>(use: Use, doc: string, children: C, o: Options & { arg?: string } = {}): BlockEntry<C> {
  return { kind: 'block', use, doc, children, ...o };
}
