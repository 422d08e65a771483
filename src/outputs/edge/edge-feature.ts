/**
 * Edge mode (`vhost { cluster { mode remote; origin host[:port] ...; } }`):
 * players at this server pull from an origin while they watch, and
 * publishers here are relayed to an origin. Several edge processes in front
 * of one origin is also how Sluice spreads players over CPU cores.
 */
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import type { LiveSource, SourceObserver } from '../../live/live-source.js';
import { streamUrl } from '../../protocol/stream-url.js';
import { EdgePull } from './edge-pull.js';
import { EdgePush } from './edge-push.js';
import { parseOrigin, upstreamVhost } from './origin-url.js';
import { TokenTraversePolicy } from './token-traverse-policy.js';

/** After the last player leaves, the pull lingers this long (a player reconnecting keeps it). */
const PULL_LINGER_MS = 3000;

class EdgeObserver implements SourceObserver {
  pull: EdgePull | null = null;
  push: EdgePush | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private pushIndex = 0;

  constructor(
    private readonly ctx: ServerContext,
    private readonly live: Set<EdgeObserver>,
  ) {}

  private settings(source: LiveSource): { origins: ReturnType<typeof parseOrigin>[]; vhost: string } | null {
    const v = this.ctx.vhost(source.vhost);
    if (!v || v.cluster.mode !== 'remote' || v.cluster.origins.length === 0) return null;
    return { origins: v.cluster.origins.map(parseOrigin), vhost: upstreamVhost(v.cluster.vhost, source.vhost) };
  }

  /**
   * The param of the first session that asked for the stream travels upstream (tokens), as `?...`
   * after the stream name: RTMP sessions keep theirs with the `?`, WebRTC sessions (a WHEP query)
   * without, and a bare `a=b` would have become part of the name the origin is asked for.
   */
  private param(source: LiveSource): string {
    for (const c of this.ctx.clients.all()) {
      if (c.vhost === source.vhost && c.app === source.app && c.stream === source.stream && c.param) return c.param.startsWith('?') ? c.param : `?${c.param}`;
    }
    return '';
  }

  onConsumersChanged(source: LiveSource, count: number): void {
    if (count > 0) {
      if (this.lingerTimer) clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
      if (this.pull || source.publisher) return;
      const s = this.settings(source);
      if (!s) return;
      const log = this.ctx.log.child({ stream: streamUrl(source.vhost, source.app, source.stream) });
      this.pull = new EdgePull(source, s.origins, s.vhost, this.param(source), log.child({ cid: 'edge-pull' }));
      this.live.add(this);
      this.pull.start();
    } else if (this.pull && !this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = null;
        this.pull?.stop('no players left');
        this.pull = null;
        this.release();
      }, PULL_LINGER_MS);
      this.lingerTimer.unref();
    }
  }

  onPublish(source: LiveSource): void {
    if (source.publisher === this.pull) return;
    const s = this.settings(source);
    if (!s) return;
    const origin = s.origins[this.pushIndex++ % s.origins.length]!;
    const log = this.ctx.log.child({ stream: streamUrl(source.vhost, source.app, source.stream), cid: source.publisher?.id });
    this.push = new EdgePush(source, origin, s.vhost, this.param(source), log);
    this.live.add(this);
    void this.push.start();
  }

  onFrame(_source: LiveSource, frame: Parameters<EdgePush['onFrame']>[0]): void {
    this.push?.onFrame(frame);
  }

  onUnpublish(source: LiveSource): void {
    if (this.push) {
      this.push.stop();
      this.push = null;
    }
    if (this.pull && source.publisher === null && source.consumers.size === 0) {
      this.pull.stop('stream ended');
      this.pull = null;
    }
    this.release();
  }

  /** Forgotten by the feature once it relays nothing (no growth with stream churn). */
  private release(): void {
    if (!this.pull && !this.push) this.live.delete(this);
  }

  stop(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.pull?.stop('server stopping');
    this.push?.stop();
    this.pull = null;
    this.push = null;
  }
}

export const edgeFeature: Feature = {
  name: 'edge',
  install(ctx: ServerContext): FeatureHandle {
    const live = new Set<EdgeObserver>();
    ctx.admission.use(new TokenTraversePolicy(ctx));
    ctx.onSourceCreated((source) => {
      // Every source gets the observer: a reload may turn a vhost into an edge.
      source.observers.add(new EdgeObserver(ctx, live));
    });
    return {
      stop() {
        for (const o of live) o.stop();
        live.clear();
      },
    };
  },
};
