/**
 * One full garbage collection once a wave of streams has come and gone and no
 * source is left (issue 11 item 9). V8 collects when JS allocates, and a server
 * with nothing live allocates next to nothing: measured after 2,000 short
 * streams, RSS then stayed at its peak for as long as the server idled (V8's
 * young generation still grown, the departed streams' buffers unreclaimed),
 * while one collection brings it to within a few MB of a server that has only
 * warmed up (docs/BENCHMARKS.md, "Stream churn"). It runs only when no source
 * exists, so no media is flowing whose latency the pause could hurt.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../log/logger.js';

/** Sources freed since the last collection before one is worth it (a single stream that ends is not). */
const MIN_FREED = 50;

export class IdleHeapRelease {
  private freedSinceCollect = 0;
  /** undefined: not looked up yet; null: this process has none. */
  private gc: (() => void) | null | undefined;

  /** `collect` stands in for V8's gc() (tests); by default it is looked up on first use. */
  constructor(
    private readonly log: Logger,
    collect?: () => void,
  ) {
    this.gc = collect;
  }

  /** A sweep freed `freed` sources and `left` remain. */
  noteFreed(freed: number, left: number): void {
    this.freedSinceCollect += freed;
    if (left > 0 || this.freedSinceCollect < MIN_FREED) return;
    const count = this.freedSinceCollect;
    this.freedSinceCollect = 0;
    const gc = this.collector();
    if (!gc) return;
    const start = performance.now();
    gc();
    this.log.info({ sourcesFreed: count, ms: Math.round(performance.now() - start) }, 'no source left: heap collected');
  }

  private collector(): (() => void) | null {
    if (this.gc !== undefined) return this.gc;
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') return (this.gc = exposed);
    try {
      // Exposes gc() to contexts made from now on; the server's own context is left as it was.
      v8.setFlagsFromString('--expose-gc');
      const fn: unknown = runInNewContext('gc');
      this.gc = typeof fn === 'function' ? (fn as () => void) : null;
    } catch {
      this.gc = null;
    }
    return this.gc;
  }
}
