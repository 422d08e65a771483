/**
 * SRS's forward (`vhost.forward { enabled on; destination ...; backend ...; }`):
 * every stream published here is pushed over RTMP to each destination (or to
 * the URLs the backend's `on_forward` answer lists), from publish to
 * unpublish. `list()` is what the API shows.
 */
import { networkInterfaces } from 'node:os';
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import type { LiveSource } from '../../live/live-source.js';
import type { VhostConfig } from '../../config/vhost-config.js';
import type { Logger } from '../../log/logger.js';
import { clip } from '../../log/clip.js';
import { streamUrl } from '../../protocol/stream-url.js';
import { Forwarder, type ForwardState } from './forwarder.js';
import { isForwardLoop, parseForwardTarget, type ForwardedStream, type SelfAddress } from './forward-target.js';
import { backendUrls, onForwardBody, type ForwardBackendCall } from './forward-backend.js';

/** One forward as the API reports it. */
export interface ForwardInfo {
  stream_url: string;
  vhost: string;
  app: string;
  stream: string;
  destination: string;
  state: ForwardState;
  reconnects: number;
  send_bytes: number;
  dropped_frames: number;
  /** The last failure ('' when none since the last connect). */
  error: string;
  /** Seconds since the forward began (publish). */
  alive: number;
}

export interface ForwardOptions {
  /** The backend HTTP call (hooks' client); without it `backend` is refused with a log line. */
  backend?: ForwardBackendCall;
  /** Reconnect delays (tests shorten them). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

/** Counts over the server's life (the exporter's counters). */
export interface ForwardTotals {
  sendBytes: number;
  reconnects: number;
  droppedFrames: number;
}

/** The forwards of one publish of one stream. */
class StreamForwards {
  readonly forwarders: Forwarder[] = [];
  stopped = false;
  /** The settings it was started with (a reload compares them). */
  config: VhostConfig['forward'] | null = null;

  constructor(readonly source: LiveSource) {}

  stop(): void {
    this.stopped = true;
    for (const f of this.forwarders) f.stop();
    this.forwarders.length = 0;
  }
}

const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost', '0.0.0.0', '::'];

export class ForwardService {
  /** By source key, while published. */
  private readonly active = new Map<string, StreamForwards>();
  private ctx: ServerContext | null = null;
  private log: Logger | null = null;
  /** What forwards that have ended sent, retried and dropped. */
  private readonly retired: ForwardTotals = { sendBytes: 0, reconnects: 0, droppedFrames: 0 };

  constructor(private readonly options: ForwardOptions = {}) {}

  install(ctx: ServerContext): FeatureHandle {
    this.ctx = ctx;
    this.log = ctx.log.child({ feature: 'forward' });
    ctx.onSourceCreated((source) => {
      source.observers.add({
        onPublish: (s) => this.onPublish(s),
        onFrame: (s, frame) => {
          const a = this.active.get(s.key);
          if (a) for (const f of a.forwarders) f.onFrame(frame);
        },
        onUnpublish: (s) => this.onUnpublish(s),
      });
    });
    return {
      reload: () => this.reload(),
      stop: () => {
        for (const a of this.active.values()) this.end(a);
        this.active.clear();
      },
    };
  }

  list(): ForwardInfo[] {
    const out: ForwardInfo[] = [];
    const now = Date.now();
    for (const a of this.active.values()) {
      const s = a.source;
      for (const f of a.forwarders) {
        out.push({
          stream_url: streamUrl(s.vhost, s.app, s.stream),
          vhost: s.vhost,
          app: s.app,
          stream: s.stream,
          destination: f.target.url,
          state: f.state,
          reconnects: f.reconnects,
          send_bytes: f.bytesSent,
          dropped_frames: f.framesDropped,
          error: f.lastError,
          alive: Math.round((now - f.startedAt) / 1000),
        });
      }
    }
    return out;
  }

  private onPublish(source: LiveSource): void {
    const old = this.active.get(source.key);
    if (old) this.end(old);
    this.active.delete(source.key);
    const v = this.ctx?.vhost(source.vhost);
    if (!v?.forward.enabled) return;
    const a = new StreamForwards(source);
    this.active.set(source.key, a);
    void this.begin(a, v);
  }

  private onUnpublish(source: LiveSource): void {
    const a = this.active.get(source.key);
    if (!a) return;
    this.end(a);
    this.active.delete(source.key);
  }

  /**
   * SRS applies forward changes to live streams on reload: a stream whose
   * settings changed restarts its forwards, a stream of a vhost that turned
   * forward on starts them, one that turned it off stops them.
   */
  private reload(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    for (const source of ctx.sources.all()) {
      if (!source.publisher) continue;
      const a = this.active.get(source.key);
      const v = ctx.vhost(source.vhost);
      if (a && v && JSON.stringify(v.forward) === JSON.stringify(a.config)) continue;
      if (!a && !v?.forward.enabled) continue;
      this.onPublish(source);
    }
  }

  /** Forwards of live streams by state, for the exporter. */
  countByState(): Map<ForwardState, number> {
    const m = new Map<ForwardState, number>();
    for (const a of this.active.values()) for (const f of a.forwarders) m.set(f.state, (m.get(f.state) ?? 0) + 1);
    return m;
  }

  totals(): ForwardTotals {
    const t = { ...this.retired };
    for (const a of this.active.values()) for (const f of a.forwarders) add(t, f);
    return t;
  }

  private end(a: StreamForwards): void {
    const ended = [...a.forwarders];
    a.stop();
    for (const f of ended) add(this.retired, f);
  }

  private publisherOf(source: LiveSource): { id: string; ip: string; tcUrl: string; param: string } {
    const id = source.publisher?.id ?? '';
    const c = id ? this.ctx?.clients.get(id) : undefined;
    return { id, ip: c?.ip ?? '', tcUrl: c?.tcUrl ?? '', param: c?.param ?? '' };
  }

  private async begin(a: StreamForwards, v: VhostConfig): Promise<void> {
    const source = a.source;
    a.config = v.forward;
    const log = this.log!.child({ stream: streamUrl(source.vhost, source.app, source.stream) });
    const pub = this.publisherOf(source);
    const stream: ForwardedStream = { vhost: source.vhost, app: source.app, stream: source.stream, param: pub.param };
    let entries = v.forward.destinations;
    if (v.forward.backend) {
      entries = await this.askBackend(v.forward.backend, source, pub, log);
      if (a.stopped) return;
    }
    const self = this.selfAddress(pub.tcUrl);
    const seen = new Set<string>();
    for (const entry of entries) {
      const parsed = parseForwardTarget(entry, stream, v.forward.rtmps);
      if (!parsed.ok) {
        log.warn({ destination: clip(entry, 200), reason: parsed.reason }, 'forward destination refused');
        continue;
      }
      const t = parsed.target;
      if (isForwardLoop(t, stream, self)) {
        log.warn({ destination: t.url, code: 1030 }, 'forward refused: the destination is this stream on this server (forward loop)');
        continue;
      }
      if (seen.has(t.url)) continue;
      seen.add(t.url);
      const f = new Forwarder(t, source, {
        queueLengthMs: v.play.queueLength * 1000,
        chunkSize: v.chunkSize,
        log,
        backoffMinMs: this.options.backoffMinMs,
        backoffMaxMs: this.options.backoffMaxMs,
      });
      a.forwarders.push(f);
      f.start();
    }
  }

  /** The backend's URLs, or none (logged) when it fails: the publish itself goes on. */
  private async askBackend(url: string, source: LiveSource, pub: { id: string; ip: string; tcUrl: string; param: string }, log: Logger): Promise<string[]> {
    const call = this.options.backend;
    if (!call) {
      log.warn({ backend: clip(url, 200) }, 'forward backend not available in this server; nothing forwarded');
      return [];
    }
    const id = this.ctx!.identity;
    const body = onForwardBody({
      serverId: id.serverId,
      serviceId: id.serviceId,
      clientId: pub.id,
      ip: pub.ip,
      vhost: source.vhost,
      app: source.app,
      tcUrl: pub.tcUrl,
      stream: source.stream,
      param: pub.param,
    });
    try {
      const urls = backendUrls(await call(url, body));
      log.info({ backend: clip(url, 200), urls: urls.length }, 'forward backend answered');
      return urls;
    } catch (err) {
      log.warn({ backend: clip(url, 200), reason: clip((err as Error).message, 200) }, 'forward backend failed; nothing forwarded');
      return [];
    }
  }

  private selfAddress(publisherTcUrl: string): SelfAddress {
    const ctx = this.ctx!;
    const hosts = new Set<string>(LOOPBACK_HOSTS);
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) hosts.add(i.address.toLowerCase());
    for (const e of ctx.config.listen) if (e.host) hosts.add(e.host.toLowerCase());
    // SRS's own rule: the host the publisher used reaches this server.
    const m = /^[a-z]+:\/\/(\[[^\]]+\]|[^/:?]+)/i.exec(publisherTcUrl);
    if (m) hosts.add(m[1]!.replace(/^\[|\]$/g, '').toLowerCase());
    return {
      rtmpPorts: ctx.config.listen.map((e) => e.port),
      rtmpsPorts: ctx.config.rtmps.enabled ? [ctx.config.rtmps.listen.port] : [],
      hosts,
      resolveVhost: (name) => ctx.vhost(name)?.name ?? '',
    };
  }
}

function add(t: ForwardTotals, f: Forwarder): void {
  t.sendBytes += f.bytesSent;
  t.reconnects += f.reconnects;
  t.droppedFrames += f.framesDropped;
}

export function forwardFeature(service: ForwardService): Feature {
  return { name: 'forward', install: (ctx) => service.install(ctx) };
}
