/**
 * OriginStore in one process's memory: for a single proxy. Expired entries
 * are dropped when read and by a sweep, so the maps stay as big as the live
 * origins and streams. `now` is injected for tests.
 */
import type { OriginRecord, OriginStore } from './origin-store.js';

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/** Bounds what unauthenticated heartbeats could make us hold. */
const MAX_ORIGINS = 10_000;
const MAX_STREAMS = 1_000_000;

export class MemoryOriginStore implements OriginStore {
  private readonly origins = new Map<string, Expiring<OriginRecord>>();
  private readonly streams = new Map<string, Expiring<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  private sweep(): void {
    const t = this.now();
    for (const [k, e] of this.origins) if (e.expiresAt <= t) this.origins.delete(k);
    for (const [k, e] of this.streams) if (e.expiresAt <= t) this.streams.delete(k);
  }

  putOrigin(origin: OriginRecord, ttlMs: number): Promise<void> {
    if (!this.origins.has(origin.id) && this.origins.size >= MAX_ORIGINS) this.sweep();
    if (this.origins.has(origin.id) || this.origins.size < MAX_ORIGINS) this.origins.set(origin.id, { value: origin, expiresAt: this.now() + ttlMs });
    return Promise.resolve();
  }

  liveOrigins(): Promise<OriginRecord[]> {
    const t = this.now();
    const out: OriginRecord[] = [];
    for (const [k, e] of this.origins) {
      if (e.expiresAt <= t) this.origins.delete(k);
      else out.push(e.value);
    }
    return Promise.resolve(out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  }

  streamOrigin(streamKey: string): Promise<string | null> {
    const e = this.streams.get(streamKey);
    if (!e) return Promise.resolve(null);
    if (e.expiresAt <= this.now()) {
      this.streams.delete(streamKey);
      return Promise.resolve(null);
    }
    return Promise.resolve(e.value);
  }

  setStreamOrigin(streamKey: string, originId: string, ttlMs: number): Promise<void> {
    if (!this.streams.has(streamKey) && this.streams.size >= MAX_STREAMS) this.sweep();
    if (this.streams.has(streamKey) || this.streams.size < MAX_STREAMS) this.streams.set(streamKey, { value: originId, expiresAt: this.now() + ttlMs });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.origins.clear();
    this.streams.clear();
    return Promise.resolve();
  }
}
