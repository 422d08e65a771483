/**
 * The public keys of a JWKS URL, fetched and kept. A token whose `kid` is
 * not among them makes one fetch (at most one per cooldown); the set is also
 * refreshed in the background when older than the refresh period. A fetch
 * that fails leaves the keys already held in service: tokens signed by them
 * keep working, a new `kid` is refused, and the log says why.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWSHeaderParameters, type FlattenedJWSInput, type CryptoKey } from 'jose';
import type { Logger } from '../../log/logger.js';
import { clip } from '../../log/clip.js';

/** A JWKS document larger than this is refused (a key set is a few KB). */
const MAX_JWKS_BYTES = 1 << 20;

export interface JwksOptions {
  url: string;
  log: Logger;
  /** Keys older than this are refetched in the background (ms). */
  refreshMs?: number;
  /** At most one fetch for unknown key ids per this period (ms). */
  cooldownMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/** Why a token's key could not be had; the message goes to the refusal line. */
export class KeyUnavailable extends Error {
  override readonly name = 'KeyUnavailable';
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

export class JwksKeySet {
  private local: LocalSet | null = null;
  private keyCount = 0;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private triedAt = Number.NEGATIVE_INFINITY;
  private lastError = '';
  private inflight: Promise<void> | null = null;
  private readonly refreshMs: number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly o: JwksOptions) {
    this.refreshMs = o.refreshMs ?? 300_000;
    this.cooldownMs = o.cooldownMs ?? 10_000;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.now = o.now ?? Date.now;
  }

  /** Number of keys held now (for tests and logs). */
  get size(): number {
    return this.keyCount;
  }

  /** The key for a token's protected header, as jose's jwtVerify asks for it. */
  async key(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    const now = this.now();
    if (!this.local) await this.refreshWithin(now);
    else if (now - this.fetchedAt > this.refreshMs && now - this.triedAt >= this.cooldownMs) void this.refresh();
    const found = await this.lookup(header, token);
    if (found) return found;
    const kid = clip(String(header.kid ?? '(none)'), 64);
    if (this.now() - this.triedAt < this.cooldownMs) throw new KeyUnavailable(this.unknownKid(kid));
    await this.refresh();
    const again = await this.lookup(header, token);
    if (again) return again;
    throw new KeyUnavailable(this.unknownKid(kid));
  }

  private unknownKid(kid: string): string {
    if (this.lastError) return `key id ${kid} is not in the cached JWKS and ${this.o.url} cannot be fetched: ${this.lastError}`;
    return `key id ${kid} is not in the JWKS of ${this.o.url}`;
  }

  /** First use: fetch, unless a fetch failed within the cooldown. */
  private async refreshWithin(now: number): Promise<void> {
    if (now - this.triedAt >= this.cooldownMs) await this.refresh();
    if (!this.local) throw new KeyUnavailable(`JWKS ${this.o.url} unavailable: ${this.lastError || 'not fetched yet'}`);
  }

  private async lookup(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | null> {
    if (!this.local) return null;
    try {
      return await this.local(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) return null;
      throw err;
    }
  }

  /** One fetch at a time; failures are logged and keep the keys held. */
  refresh(): Promise<void> {
    this.inflight ??= this.fetchOnce().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private async fetchOnce(): Promise<void> {
    this.triedAt = this.now();
    try {
      const set = await this.download();
      this.local = createLocalJWKSet(set);
      this.keyCount = set.keys.length;
      this.fetchedAt = this.now();
      this.lastError = '';
      this.o.log.info({ url: this.o.url, keys: set.keys.length }, 'JWKS loaded');
    } catch (err) {
      this.lastError = clip(err instanceof Error ? err.message : String(err), 160);
      this.o.log.warn({ url: this.o.url, err: this.lastError, cachedKeys: this.keyCount }, 'JWKS fetch failed: cached keys keep working, new key ids are refused');
    }
  }

  private async download(): Promise<JSONWebKeySet> {
    const res = await fetch(this.o.url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_JWKS_BYTES) {
      await res.body?.cancel();
      throw new Error(`JWKS of ${declared} bytes is too large`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      for await (const chunk of res.body) {
        total += chunk.byteLength;
        if (total > MAX_JWKS_BYTES) throw new Error('JWKS is too large');
        chunks.push(chunk);
      }
    }
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (!isKeySet(parsed)) throw new Error('not a JWKS document (no "keys" array)');
    return parsed;
  }
}

function isKeySet(v: unknown): v is JSONWebKeySet {
  if (v === null || typeof v !== 'object') return false;
  const keys = (v as { keys?: unknown }).keys;
  return Array.isArray(keys) && keys.every((k) => k !== null && typeof k === 'object' && !Array.isArray(k));
}
