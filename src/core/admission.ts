/**
 * The one admission door: every protocol asks it at connect, publish and play,
 * and tells it when a session unpublishes, stops or closes. Behind it stand
 * the session policies (HTTP callbacks, allow/deny, limits, ...), in the
 * order the composition root installed them; the first denial wins.
 */
import type { Logger } from '../log/logger.js';
import { clip } from '../log/clip.js';
import type { ClientSession } from './client-registry.js';
import { AccessDenied, RedirectTo, type AdmissionPoint, type NotificationPoint, type SessionPolicy, type StreamLocation } from './session-policy.js';

/** Why a session was refused: the policy's words and SRS's error code (0 when none). */
export interface Denial {
  reason: string;
  code: number;
  /** HTTP status for HTTP-facing protocols (401 or 403). */
  status: 401 | 403;
  /** Set when the stream is published elsewhere (origin cluster): send the player there. */
  redirect?: StreamLocation;
}

function denialOf(err: unknown): Denial {
  if (err instanceof RedirectTo) return { reason: err.message, code: err.code, status: 403, redirect: err.location };
  if (err instanceof AccessDenied) return { reason: err.message, code: err.code, status: err.status };
  return { reason: `policy failed: ${err instanceof Error ? err.message : String(err)}`, code: 0, status: 403 };
}

export type DenialListener = (s: ClientSession, d: Denial) => void;

export class Admission {
  private readonly policies: SessionPolicy[] = [];
  private readonly denialListeners: DenialListener[] = [];

  constructor(private readonly log: Logger) {}

  /** Adds a policy behind those already installed. */
  use(policy: SessionPolicy): void {
    this.policies.push(policy);
  }

  /** Puts `next` where `old` stood (a feature re-created on reload), or at the end. */
  replace(old: SessionPolicy, next: SessionPolicy): void {
    const i = this.policies.indexOf(old);
    if (i >= 0) this.policies[i] = next;
    else this.policies.push(next);
  }

  /** Told of every refusal that passed through gate() (statistics count them). */
  onDenied(listener: DenialListener): void {
    this.denialListeners.push(listener);
  }

  /** Whether some policy must admit every player of this vhost (see SessionPolicy.guardsEveryPlay). */
  guardsEveryPlay(vhost: string): boolean {
    return this.policies.some((p) => p.guardsEveryPlay?.(vhost) === true);
  }

  get names(): string[] {
    return this.policies.map((p) => p.name);
  }

  /**
   * Asks every policy; throws (or rejects with) AccessDenied on a refusal.
   * Returns undefined, synchronously, when no policy has async work: most
   * players are admitted in the same tick.
   */
  check(point: AdmissionPoint, s: ClientSession): Promise<void> | undefined {
    let chain: Promise<void> | undefined;
    for (const p of this.policies) {
      const fn = p[point];
      if (!fn) continue;
      if (chain) chain = chain.then(() => fn.call(p, s));
      else {
        const r = fn.call(p, s);
        if (r) chain = r;
      }
    }
    return chain;
  }

  /**
   * check() for callers that go on with callbacks: `admitted()` or `denied()`
   * runs exactly once, and a refusal is logged once, here, with the session's
   * id, address and stream. Returns a promise, settled after the callback ran,
   * when a policy had async work (RTMP pauses its socket until then).
   */
  gate(point: AdmissionPoint, s: ClientSession, admitted: () => void, denied: (d: Denial) => void, log: Logger = this.log): Promise<void> | undefined {
    const refuse = (err: unknown): void => {
      const d = denialOf(err);
      if (d.redirect) {
        // Not a refusal: the stream lives on another origin of the cluster.
        log.info({ cid: s.id, ip: s.ip, stream: clip(`${s.vhost}/${s.app}/${s.stream}`), type: s.type, to: `${d.redirect.ip}:${d.redirect.rtmpPort}` }, 'session redirected');
        denied(d);
        return;
      }
      for (const l of this.denialListeners) l(s, d);
      log.warn({ cid: s.id, ip: s.ip, stream: clip(`${s.vhost}/${s.app}/${s.stream}`), type: s.type, point, reason: clip(d.reason, 200), code: d.code }, 'session denied');
      denied(d);
    };
    let pending: Promise<void> | undefined;
    try {
      pending = this.check(point, s);
    } catch (err) {
      refuse(err);
      return undefined;
    }
    if (pending) return pending.then(admitted, refuse);
    admitted();
    return undefined;
  }

  /** Tells every policy; a policy that throws is logged and the others still hear of it. */
  notify(point: NotificationPoint, s: ClientSession, log: Logger = this.log): void {
    for (const p of this.policies) {
      try {
        p[point]?.(s);
      } catch (err) {
        log.warn({ policy: p.name, point, cid: s.id, err: err instanceof Error ? err.message : String(err) }, 'policy notification failed');
      }
    }
  }
}
