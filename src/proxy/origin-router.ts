/**
 * Where the proxy sends a stream: the origin already holding it when that
 * origin is alive, else (a new publish, or its origin died) a live origin,
 * pinned in the store so that every proxy agrees: the least-loaded one when
 * every live origin's heartbeat says its load (SRS's summaries), else the one
 * picked by the stream key's hash. Never an origin whose heartbeat has expired.
 */
import { createHash } from 'node:crypto';
import type { OriginRecord, OriginStore } from './origin-store.js';

/** How long a stream stays pinned to its origin without being asked for again (ms). */
const STREAM_PIN_MS = 5 * 60_000;

export class NoLiveOrigin extends Error {
  constructor() {
    super('no live origin (no heartbeat within the expiry)');
    this.name = 'NoLiveOrigin';
  }
}

function pick(origins: readonly OriginRecord[], streamKey: string): OriginRecord {
  const h = createHash('sha1').update(streamKey).digest().readUInt32BE(0);
  const hashed = origins[h % origins.length]!;
  // Least-loaded only when every origin reports: a load compared with an unknown one means nothing.
  if (!origins.every((o) => o.load !== undefined)) return hashed;
  const least = Math.min(...origins.map((o) => o.load!));
  // Ties go by the hash too, so equally loaded origins still share new streams.
  const ties = origins.filter((o) => o.load === least);
  return ties[h % ties.length]!;
}

export class OriginRouter {
  constructor(private readonly store: OriginStore) {}

  async route(streamKey: string): Promise<OriginRecord> {
    const live = await this.store.liveOrigins();
    if (live.length === 0) throw new NoLiveOrigin();
    const pinned = await this.store.streamOrigin(streamKey);
    const holder = pinned === null ? undefined : live.find((o) => o.id === pinned);
    const chosen = holder ?? pick(live, streamKey);
    await this.store.setStreamOrigin(streamKey, chosen.id, STREAM_PIN_MS);
    return chosen;
  }

  /**
   * For an HTTP path that may name several streams (see httpStreamKeys): the
   * live origin of the first key that is pinned, else a route for the first.
   */
  async routeFirstPinned(keys: readonly string[]): Promise<OriginRecord> {
    const live = await this.store.liveOrigins();
    if (live.length === 0) throw new NoLiveOrigin();
    for (const k of keys) {
      const pinned = await this.store.streamOrigin(k);
      const holder = pinned === null ? undefined : live.find((o) => o.id === pinned);
      if (holder) return holder;
    }
    return this.route(keys[0]!);
  }

  /**
   * A live publisher re-pins its stream now and then: after a Redis restart
   * (which forgets every pin) its stream is found again within one refresh.
   */
  keep(streamKey: string, originId: string): Promise<void> {
    return this.store.setStreamOrigin(streamKey, originId, STREAM_PIN_MS);
  }
}
