/**
 * `cluster { mode remote; token_traverse on; }`: before an RTMP client of
 * this edge may play or publish, the edge makes an RTMP connect to an origin
 * with the client's tcUrl (which carries its token), as SRS does; the
 * origin's own checks (on_connect hook, security) decide. Origins are tried
 * in order until one answers; a refusal or no origin refuses the client.
 */
import type { ServerContext } from '../../core/server-context.js';
import type { ClientSession } from '../../core/client-registry.js';
import { AccessDenied, type SessionPolicy } from '../../core/session-policy.js';
import { RtmpClient } from '../../clients/rtmp-client.js';
import { parseOrigin } from './origin-url.js';

const TRAVERSE_TIMEOUT_MS = 3000;

export class TokenTraversePolicy implements SessionPolicy {
  readonly name = 'token-traverse';

  constructor(private readonly ctx: ServerContext) {}

  /** Synchronous nothing when the vhost does not traverse: the other sessions are admitted in the same tick. */
  private traverse(s: ClientSession): Promise<void> | void {
    const v = this.ctx.vhost(s.vhost);
    if (!v || v.cluster.mode !== 'remote' || !v.cluster.tokenTraverse || v.cluster.origins.length === 0) return;
    if (s.type !== 'rtmp-play' && s.type !== 'fmle-publish' && s.type !== 'flash-publish') return;
    return this.ask(s, v.cluster.origins);
  }

  private async ask(s: ClientSession, origins: readonly string[]): Promise<void> {
    let last = 'no origin';
    for (const text of origins) {
      const origin = parseOrigin(text);
      try {
        const c = await RtmpClient.connect({ host: origin.host, port: origin.port, tls: origin.tls, app: s.app, tcUrl: s.tcUrl, timeoutMs: TRAVERSE_TIMEOUT_MS });
        void c.close();
        return;
      } catch (err) {
        last = `${origin.host}:${origin.port}: ${(err as Error).message}`;
      }
    }
    throw new AccessDenied(`token traverse refused (${last})`);
  }

  onPlay(s: ClientSession): Promise<void> | void {
    return this.traverse(s);
  }

  onPublish(s: ClientSession): Promise<void> | void {
    return this.traverse(s);
  }
}
