// Property-based mutation fuzzing with fast-check (Jazzer.js does not load on
// this machine's glibc: docs/DECISIONS.md). One property for every parser fed
// by the network: whatever the bytes, it returns or throws its own documented
// error class, in bounded time, without allocating far beyond its input.
import fc from 'fast-check';

/** An error class a parser documents (RtmpError, AmfError, ...). */
type ErrorClass = abstract new (...args: never[]) => Error;

export interface FuzzTarget {
  readonly name: string;
  /** The only exceptions the parser may throw. */
  readonly errors: readonly ErrorClass[];
  /** Real inputs to mutate; built lazily so importing the target list is cheap. */
  readonly corpus: () => readonly Buffer[];
  /** Feeds one input; stream parsers cut it at `splits` (offsets, reduced modulo its length). */
  readonly run: (input: Buffer, splits: readonly number[]) => void;
  /**
   * Bytes one call may leave allocated (external + heap) beyond its input: the
   * parser's own documented limits when it legitimately allocates at a declared
   * length (the RTMP chunk reader does, up to its message limit).
   */
  readonly allocAllowance?: (inputLength: number) => number;
}

export interface FuzzOptions {
  runs: number;
  seed?: number;
  /** A single call slower than this is reported as a hang (synchronous parsers cannot be interrupted). */
  callTimeoutMs?: number;
  /** Called with each input just before the parser sees it (the hang watchdog keeps a copy). */
  onInput?: (bytes: Buffer, splits: readonly number[]) => void;
  /** Called every `progressEvery` inputs. */
  onProgress?: (done: number) => void;
  progressEvery?: number;
}

export interface FuzzStats {
  name: string;
  runs: number;
  /** Inputs the parser accepted (returned). */
  accepted: number;
  /** Inputs refused with the parser's own error. */
  refused: number;
  ms: number;
  maxCallMs: number;
  /** Largest growth of arrayBuffers + heapUsed seen across one call. */
  maxAllocBytes: number;
  seed: number;
  /** null when the property held for every input. */
  failure: string | null;
}

/** Values a length or count field is set to: the edges parsers get wrong. */
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0xffffff, 0x7fffffff, 0x80000000, 0xffffffff];

type Mutation =
  | { k: 'flip'; pos: number; bit: number }
  | { k: 'byte'; pos: number; value: number }
  | { k: 'field'; pos: number; width: 1 | 2 | 3 | 4; value: number }
  | { k: 'truncate'; pos: number }
  | { k: 'splice'; pos: number; other: number; from: number; len: number }
  | { k: 'insert'; pos: number; bytes: Uint8Array }
  | { k: 'delete'; pos: number; len: number }
  | { k: 'repeat'; pos: number; len: number; times: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('byte' as const), pos: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    k: fc.constant('field' as const),
    pos: fc.nat(),
    width: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
    value: fc.constantFrom(...INTERESTING),
  }),
  fc.record({ k: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({ k: fc.constant('splice' as const), pos: fc.nat(), other: fc.nat(), from: fc.nat(), len: fc.integer({ min: 1, max: 512 }) }),
  fc.record({ k: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ k: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ k: fc.constant('repeat' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 2, max: 16 }) }),
);

/** Applies mutations to a copy of `seed`; `pool` is the whole corpus (for splices). */
function mutate(seed: Buffer, ms: readonly Mutation[], pool: readonly Buffer[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.pos % b.length;
    switch (m.k) {
      case 'flip':
        if (b.length > 0) b[at]! ^= 1 << m.bit;
        break;
      case 'byte':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'field':
        // Big-endian, as in every format here but the few little-endian AMF/FLV ids; a big value in either order is just as hostile.
        if (at + m.width <= b.length) b.writeUIntBE(m.value % 2 ** (8 * m.width), at, m.width);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'splice': {
        const o = pool[m.other % pool.length]!;
        const from = o.length === 0 ? 0 : m.from % o.length;
        b = Buffer.concat([b.subarray(0, at), o.subarray(from, from + m.len), b.subarray(at)]);
        break;
      }
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'repeat': {
        const piece = b.subarray(at, at + m.len);
        b = Buffer.concat([b.subarray(0, at), ...Array.from({ length: m.times }, () => piece), b.subarray(at + m.len)]);
        break;
      }
    }
  }
  return b;
}

interface FuzzInput {
  bytes: Buffer;
  splits: number[];
}

function inputArb(corpus: readonly Buffer[]): fc.Arbitrary<FuzzInput> {
  const random = fc.uint8Array({ maxLength: 2048 }).map((u) => Buffer.from(u.buffer, u.byteOffset, u.length));
  const mutated = fc
    .record({ seed: fc.nat(), ms: fc.array(mutationArb, { minLength: 1, maxLength: 8 }) })
    .map(({ seed, ms }) => mutate(corpus[seed % corpus.length]!, ms, corpus));
  // Mostly mutations of real inputs: random bytes rarely get past the first check.
  const bytes = corpus.length > 0 ? fc.oneof({ arbitrary: random, weight: 1 }, { arbitrary: mutated, weight: 6 }) : random;
  return fc.record({ bytes, splits: fc.array(fc.nat(), { maxLength: 3 }) });
}

/** Cuts `b` at the given offsets (modulo its length), in order. */
export function pieces(b: Buffer, splits: readonly number[]): Buffer[] {
  if (b.length === 0) return [b];
  const cuts = [...new Set(splits.map((s) => s % b.length))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let last = 0;
  for (const c of cuts) {
    out.push(b.subarray(last, c));
    last = c;
  }
  out.push(b.subarray(last));
  return out;
}

const MIB = 1024 * 1024;
const defaultAllowance = (n: number): number => MIB + 64 * n;

function describeThrown(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}\n${e.stack ?? ''}`;
  return `non-Error thrown: ${String(e)}`;
}

/** Runs `opts.runs` inputs through the target's property. Never throws: a failure is in the stats. */
export function fuzzTarget(t: FuzzTarget, opts: FuzzOptions): FuzzStats {
  const corpus = t.corpus();
  const allowance = t.allocAllowance ?? defaultAllowance;
  const callTimeoutMs = opts.callTimeoutMs ?? 2000;
  const seed = opts.seed ?? Date.now() ^ (Math.random() * 0x7fffffff);
  const stats: FuzzStats = { name: t.name, runs: 0, accepted: 0, refused: 0, ms: 0, maxCallMs: 0, maxAllocBytes: 0, seed, failure: null };
  const every = opts.progressEvery ?? 100_000;
  const prop = fc.property(inputArb(corpus), ({ bytes, splits }) => {
    opts.onInput?.(bytes, splits);
    const before = process.memoryUsage();
    const t0 = performance.now();
    let refused = false;
    try {
      t.run(bytes, splits);
    } catch (e) {
      if (!t.errors.some((cls) => e instanceof cls)) throw new Error(`undocumented exception: ${describeThrown(e)}`, { cause: e });
      refused = true;
    }
    const dt = performance.now() - t0;
    const after = process.memoryUsage();
    const grown = Math.max(0, after.arrayBuffers - before.arrayBuffers) + Math.max(0, after.heapUsed - before.heapUsed);
    if (dt > callTimeoutMs) throw new Error(`one call took ${dt.toFixed(0)} ms (limit ${callTimeoutMs} ms) on ${bytes.length} bytes`);
    if (grown > allowance(bytes.length)) {
      throw new Error(`one call grew memory by ${grown} bytes on a ${bytes.length}-byte input (allowed ${allowance(bytes.length)})`);
    }
    stats.runs++;
    if (refused) stats.refused++;
    else stats.accepted++;
    if (dt > stats.maxCallMs) stats.maxCallMs = dt;
    if (grown > stats.maxAllocBytes) stats.maxAllocBytes = grown;
    if (opts.onProgress && stats.runs % every === 0) opts.onProgress(stats.runs);
  });
  const t0 = performance.now();
  const r = fc.check(prop, { numRuns: opts.runs, seed });
  stats.ms = performance.now() - t0;
  if (r.failed) {
    const ce = r.counterexample?.[0] as FuzzInput | undefined;
    const hex = ce ? ce.bytes.subarray(0, 256).toString('hex') : '?';
    stats.failure =
      `${r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance)}\n` +
      `seed ${seed}, path ${r.counterexamplePath ?? '?'}, input (${ce?.bytes.length ?? '?'} bytes, first 256 hex): ${hex}, splits ${JSON.stringify(ce?.splits ?? [])}`;
  }
  return stats;
}
