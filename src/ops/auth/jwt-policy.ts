/**
 * JWT at the admission door: a vhost with `jwt { enabled on; }` admits a
 * publisher or player only with a token that verifies (jwt-verifier.ts) and
 * whose claim grants the action on `app/stream` (jwt-grants.ts). Missing or
 * bad token → 401, valid token for another stream or action → 403, both with
 * SRS's access-denied code 2015. With `expire_sessions on`, a session admitted
 * with an `exp` is closed when it passes (plus the leeway). The other
 * policies (http_hooks, security) are asked as well: all must pass.
 */
import type { ServerContext } from '../../core/server-context.js';
import type { ClientSession } from '../../core/client-registry.js';
import { AccessDenied, type SessionPolicy } from '../../core/session-policy.js';
import type { JwtConfig } from '../../config/vhost-config.js';
import { clip } from '../../log/clip.js';
import { grantsOf, granted, type JwtAction } from './jwt-grants.js';
import { MAX_TOKEN_CHARS, tokenHint, tokenOf } from './jwt-token-source.js';
import { JwtVerifier } from './jwt-verifier.js';
import { JwksKeySet } from './jwks-key-set.js';

/** SRS's ERROR_RTMP_ACCESS_DENIED, the code its `refer` check refuses with too. */
const ERROR_ACCESS_DENIED = 2015;
const SWEEP_MS = 1000;
/** An expiry whose session never shows up in the client registry is forgotten after this (ms). */
const UNSEEN_MS = 60_000;

interface Expiry {
  at: number;
  session: ClientSession;
  seenAt: number;
}

export class JwtPolicy implements SessionPolicy {
  readonly name = 'jwt';
  private readonly verifiers = new Map<string, JwtVerifier>();
  private readonly keySets = new Map<string, JwksKeySet>();
  private readonly expiries = new Map<string, Expiry>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly ctx: ServerContext,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.expiries.clear();
  }

  guardsEveryPlay(vhost: string): boolean {
    return this.ctx.vhost(vhost)?.jwt.enabled === true;
  }

  onPublish(s: ClientSession): Promise<void> | void {
    return this.check(s, 'publish');
  }

  onPlay(s: ClientSession): Promise<void> | void {
    return this.check(s, 'play');
  }

  onUnpublish(s: ClientSession): void {
    this.expiries.delete(s.id);
  }

  onStop(s: ClientSession): void {
    this.expiries.delete(s.id);
  }

  onClose(s: ClientSession): void {
    this.expiries.delete(s.id);
  }

  /** Synchronous (no promise) on a vhost without JWT, so those sessions are admitted in the same tick. */
  private check(s: ClientSession, action: JwtAction): Promise<void> | void {
    const cfg = this.ctx.vhost(s.vhost)?.jwt;
    if (!cfg?.enabled) return;
    const token = tokenOf(s);
    if (!token) throw new AccessDenied(`jwt: no token for ${action}`, ERROR_ACCESS_DENIED, 401);
    if (token.length > MAX_TOKEN_CHARS) throw new AccessDenied(`jwt: token of ${token.length} chars is too long`, ERROR_ACCESS_DENIED, 401);
    const verifier = this.verifierFor(cfg);
    if (!verifier.configured) throw new AccessDenied('jwt: enabled without `secret` or `jwks_url`', ERROR_ACCESS_DENIED, 401);
    return this.admit(s, action, cfg, verifier, token);
  }

  private async admit(s: ClientSession, action: JwtAction, cfg: JwtConfig, verifier: JwtVerifier, token: string): Promise<void> {
    let payload;
    try {
      payload = await verifier.verify(token);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const why = `${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}`;
      throw new AccessDenied(`jwt: token ${tokenHint(token)} refused: ${clip(why, 200)}`, ERROR_ACCESS_DENIED, 401);
    }
    const stream = streamNameOf(s);
    const patterns = grantsOf(payload, cfg.claim, action);
    if (!patterns || !granted(patterns, s.app, stream)) {
      throw new AccessDenied(`jwt: token ${tokenHint(token)} does not grant ${action} of ${clip(`${s.app}/${stream}`, 120)}`, ERROR_ACCESS_DENIED, 403);
    }
    if (cfg.expireSessions && typeof payload.exp === 'number') {
      this.expiries.set(s.id, { at: (payload.exp + cfg.leeway) * 1000, session: s, seenAt: this.now() });
    }
  }

  private verifierFor(cfg: JwtConfig): JwtVerifier {
    const key = JSON.stringify([cfg.secret, cfg.jwksUrl, cfg.leeway, cfg.issuer, cfg.audience]);
    let v = this.verifiers.get(key);
    if (!v) {
      // Reloads may leave old settings behind; a handful of vhosts never reaches this.
      if (this.verifiers.size >= 64) this.verifiers.clear();
      v = new JwtVerifier(cfg, cfg.jwksUrl ? this.keySetFor(cfg.jwksUrl) : null);
      this.verifiers.set(key, v);
    }
    return v;
  }

  private keySetFor(url: string): JwksKeySet {
    let k = this.keySets.get(url);
    if (!k) {
      if (this.keySets.size >= 64) this.keySets.clear();
      k = new JwksKeySet({ url, log: this.ctx.log.child({ policy: 'jwt' }), now: this.now });
      this.keySets.set(url, k);
    }
    return k;
  }

  /** Closes the sessions whose token expired; forgets those that never became clients. */
  sweep(): void {
    const now = this.now();
    for (const [id, e] of this.expiries) {
      const live = this.ctx.clients.get(id);
      if (live) e.seenAt = now;
      if (now >= e.at) {
        this.expiries.delete(id);
        this.ctx.log.info({ cid: id, stream: clip(`${e.session.vhost}/${e.session.app}/${e.session.stream}`), type: e.session.type }, 'jwt: token expired, session closed');
        (live ?? e.session).close('jwt token expired');
      } else if (now - e.seenAt > UNSEEN_MS) this.expiries.delete(id);
    }
  }
}

/** The stream a token must name: HLS sessions carry the playlist's file name. */
function streamNameOf(s: ClientSession): string {
  return s.type === 'hls-play' ? s.stream.replace(/\.m3u8$/, '') : s.stream;
}
