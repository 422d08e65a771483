/**
 * A token bucket per client IP (issue 11 item 5: unauthenticated WebRTC
 * offers had no limit). Each IP may spend `burst` requests at once and then
 * `perSecond` more each second. The map of IPs is bounded: when it is full
 * the least recently seen IP is forgotten, so a flood from many addresses
 * costs at most `maxIps` small entries — forgetting an IP only gives it a
 * fresh burst, and the global budget (max_connections) still holds.
 */

export interface RateLimitOptions {
  burst: number;
  perSecond: number;
  maxIps: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class IpRateLimit {
  /** Insertion order is recency order: a take() moves the IP to the end. */
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly opts: RateLimitOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Spends one token of `ip`: 0 when allowed, else the milliseconds until the next token. */
  take(ip: string): number {
    const now = this.now();
    const { burst, perSecond } = this.opts;
    let b = this.buckets.get(ip);
    if (b) {
      this.buckets.delete(ip);
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
      b.at = now;
    } else {
      if (this.buckets.size >= this.opts.maxIps) this.evict(now);
      b = { tokens: burst, at: now };
    }
    this.buckets.set(ip, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / perSecond) * 1000);
  }

  /** Drops the IPs whose bucket has refilled (they hold no state worth keeping); failing that, the least recently seen. */
  private evict(now: number): void {
    const { burst, perSecond } = this.opts;
    const refillMs = (burst / perSecond) * 1000;
    for (const [ip, b] of this.buckets) {
      // Oldest first: once one has not refilled, the later ones have not either.
      if (now - b.at < refillMs) break;
      this.buckets.delete(ip);
    }
    if (this.buckets.size >= this.opts.maxIps) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
  }
}
