/**
 * OriginStore in Redis (ioredis), so that any number of stateless proxies
 * agree. Every key carries a TTL: an origin's record lives `ttlMs` past its
 * last heartbeat and a stream pin as long as it is refreshed, so a dead
 * origin and its streams vanish from Redis by themselves. The set of origin
 * ids is only an index: an id whose record expired is dropped when read.
 *
 * Redis gone: ioredis reconnects with a capped backoff, and commands fail at
 * once (no offline queue) with StoreUnavailable, so a new route fails with a
 * clear error instead of waiting or going to a stale origin. Live piped
 * sessions do not touch the store.
 */
import { Redis } from 'ioredis';
import type { OriginRecord, OriginStore } from './origin-store.js';
import { originFromHeartbeat } from './heartbeat-record.js';

export interface RedisStoreOptions {
  host: string;
  port: number;
  password?: string;
  db: number;
  /** Key prefix, so one Redis may serve several proxy tiers. */
  prefix?: string;
  /** Called (rate-limited by the caller) on connection errors and reconnects. */
  onEvent?: (event: 'error' | 'ready' | 'close', detail: string) => void;
}

class StoreUnavailable extends Error {
  constructor(cause: unknown) {
    super(`origin store unavailable (Redis): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreUnavailable';
  }
}

/** Bounds what one read of the index can return (as the memory store). */
const MAX_ORIGINS = 10_000;

export class RedisOriginStore implements OriginStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(opts: RedisStoreOptions) {
    this.prefix = opts.prefix ?? 'sluice:proxy:';
    this.redis = new Redis({
      host: opts.host,
      port: opts.port,
      password: opts.password || undefined,
      db: opts.db,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    });
    this.redis.on('error', (err: Error) => opts.onEvent?.('error', err.message));
    this.redis.on('ready', () => opts.onEvent?.('ready', `${opts.host}:${opts.port}`));
    this.redis.on('close', () => opts.onEvent?.('close', `${opts.host}:${opts.port}`));
  }

  private async run<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw new StoreUnavailable(err);
    }
  }

  private originKey(id: string): string {
    return `${this.prefix}origin:${id}`;
  }

  private get indexKey(): string {
    return `${this.prefix}origins`;
  }

  putOrigin(origin: OriginRecord, ttlMs: number): Promise<void> {
    return this.run(async () => {
      await this.redis
        .multi()
        .set(this.originKey(origin.id), JSON.stringify(origin), 'PX', Math.max(1, Math.round(ttlMs)))
        .sadd(this.indexKey, origin.id)
        // The index outlives no origin by much: it expires with the last heartbeat too.
        .pexpire(this.indexKey, Math.max(1, Math.round(ttlMs)) * 2)
        .exec();
    });
  }

  liveOrigins(): Promise<OriginRecord[]> {
    return this.run(async () => {
      const ids = (await this.redis.smembers(this.indexKey)).slice(0, MAX_ORIGINS).sort();
      if (ids.length === 0) return [];
      const values = await this.redis.mget(ids.map((id) => this.originKey(id)));
      const out: OriginRecord[] = [];
      const gone: string[] = [];
      values.forEach((v, i) => {
        const rec = v === null ? null : recordFromJson(v);
        if (rec) out.push(rec);
        else gone.push(ids[i]!);
      });
      if (gone.length > 0) await this.redis.srem(this.indexKey, ...gone);
      return out;
    });
  }

  streamOrigin(streamKey: string): Promise<string | null> {
    return this.run(() => this.redis.get(`${this.prefix}stream:${streamKey}`));
  }

  setStreamOrigin(streamKey: string, originId: string, ttlMs: number): Promise<void> {
    return this.run(async () => {
      await this.redis.set(`${this.prefix}stream:${streamKey}`, originId, 'PX', Math.max(1, Math.round(ttlMs)));
    });
  }

  close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}

/** What another proxy wrote: read back through the same bounded parser as a heartbeat. */
function recordFromJson(text: string): OriginRecord | null {
  try {
    const v = JSON.parse(text) as { id?: unknown; updatedAt?: unknown };
    const rec = originFromHeartbeat({ ...v, device_id: v.id }, typeof v.updatedAt === 'number' ? v.updatedAt : 0);
    return rec;
  } catch {
    return null;
  }
}
