/**
 * The origin cluster at the admission door (`cluster { origin_cluster on;
 * coworkers host:port ...; }`): a play of a stream that is not published
 * here asks each coworker in order; the first that has it is where the
 * player is redirected (RTMP 302, or HTTP 302 when the coworker told its HTTP
 * port). An RTMP play that no coworker can serve fails, as in SRS (3092);
 * an HTTP player then waits here as SRS's HTTP players do.
 */
import type { ServerContext } from '../../core/server-context.js';
import type { ClientSession } from '../../core/client-registry.js';
import { AccessDenied, RedirectTo, type SessionPolicy, type StreamLocation } from '../../core/session-policy.js';
import { askCoworker, type StreamQuery } from './coworker-client.js';

/** SRS's ERROR_OCLUSTER_REDIRECT: no coworker has the stream. */
const ERROR_OCLUSTER_REDIRECT = 3092;

export type Discover = (coworker: string, q: StreamQuery) => Promise<StreamLocation | null>;

/** The host part of a tcUrl (`rtmp://host:port/app`), '' when there is none. */
function tcUrlHost(tcUrl: string): string {
  const m = /^[a-z]+:\/\/(\[[^\]]+\]|[^/:?]+)/i.exec(tcUrl);
  return m ? m[1]!.replace(/^\[|\]$/g, '') : '';
}

export class OriginClusterPolicy implements SessionPolicy {
  readonly name = 'origin-cluster';

  constructor(
    private readonly ctx: ServerContext,
    private readonly discover: Discover = askCoworker,
  ) {}

  /** The coworkers to ask for a stream of this vhost, or null when the cluster does not apply. */
  coworkersFor(vhostName: string, app: string, stream: string): { vhost: string; coworkers: string[] } | null {
    const v = this.ctx.vhost(vhostName);
    if (!v || !v.cluster.originCluster || v.cluster.mode === 'remote') return null;
    if (this.ctx.sources.get(v.name, app, stream)?.active) return null;
    return { vhost: v.name, coworkers: v.cluster.coworkers };
  }

  /** Asks the coworkers in order; the first with an origin for the stream wins. */
  async locate(q: StreamQuery, coworkers: readonly string[], needHttp: boolean): Promise<StreamLocation | null> {
    for (const c of coworkers) {
      const loc = await this.discover(c, q);
      if (loc && (!needHttp || loc.httpPort !== null)) return loc;
    }
    return null;
  }

  onPlay(s: ClientSession): Promise<void> | void {
    if (s.type !== 'rtmp-play' && s.type !== 'flv-play') return;
    const c = this.coworkersFor(s.vhost, s.app, s.stream);
    if (!c) return;
    const rtmp = s.type === 'rtmp-play';
    const q: StreamQuery = { vhost: c.vhost, host: tcUrlHost(s.tcUrl), app: s.app, stream: s.stream };
    return this.locate(q, c.coworkers, !rtmp).then((loc) => {
      if (loc) throw new RedirectTo(loc);
      if (rtmp) throw new AccessDenied(`no origin in the cluster has ${s.app}/${s.stream}`, ERROR_OCLUSTER_REDIRECT);
    });
  }
}
