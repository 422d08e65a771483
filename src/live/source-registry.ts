/**
 * All live sources of a server, by stream key. A source with neither publisher
 * nor player for `idleTimeoutMs` is disposed and forgotten, so that thousands
 * of short streams leave nothing behind (the fix for SRS issue #413).
 */
import { LiveSource, monotonicMs, type SourcePlayConfig } from './live-source.js';

export interface SourceRegistryOptions {
  idleTimeoutMs: number;
  sweepIntervalMs: number;
  now?: () => number;
}

export class SourceRegistry {
  private readonly sources = new Map<string, LiveSource>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  /** Called when a source is created or freed (stats, API). */
  onCreate: ((source: LiveSource) => void) | null = null;
  onDispose: ((source: LiveSource) => void) | null = null;
  /** Called after a timed sweep that freed sources, with how many remain. */
  onFreed: ((freed: number, left: number) => void) | null = null;

  constructor(private readonly options: SourceRegistryOptions) {
    this.now = options.now ?? monotonicMs;
    this.timer = setInterval(() => {
      const freed = this.sweep();
      if (freed > 0) this.onFreed?.(freed, this.sources.size);
    }, options.sweepIntervalMs);
    this.timer.unref();
  }

  get size(): number {
    return this.sources.size;
  }

  get(vhost: string, app: string, stream: string): LiveSource | undefined {
    return this.sources.get(`${vhost}/${app}/${stream}`);
  }

  getOrCreate(vhost: string, app: string, stream: string, config: SourcePlayConfig): LiveSource {
    const key = `${vhost}/${app}/${stream}`;
    let source = this.sources.get(key);
    if (!source) {
      source = new LiveSource(vhost, app, stream, config, this.now);
      this.sources.set(key, source);
      this.onCreate?.(source);
    }
    return source;
  }

  all(): IterableIterator<LiveSource> {
    return this.sources.values();
  }

  /** Frees sources that have been idle long enough. Returns how many were freed. */
  sweep(): number {
    const now = this.now();
    let freed = 0;
    for (const [key, source] of this.sources) {
      if (source.idleSince > 0 && now - source.idleSince >= this.options.idleTimeoutMs) {
        this.sources.delete(key);
        source.dispose();
        this.onDispose?.(source);
        freed++;
      }
    }
    return freed;
  }

  close(): void {
    clearInterval(this.timer);
    for (const source of this.sources.values()) source.dispose();
    this.sources.clear();
  }
}
