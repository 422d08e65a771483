/**
 * What every part of one server shares, as explicit typed fields: the config
 * in force, the live sources, the client list, the connection limit, the
 * admission door, the HTTP routes, the server's identity and the root
 * logger. Parts that need another part's service (statistics, hooks) are
 * handed it by the composition root (main/), never through the context.
 * A reload swaps `config`; sessions read vhost settings through it when they
 * need them, so new settings reach new work without dropping anyone.
 */
import type { Logger } from '../log/logger.js';
import type { ServerConfig, VhostConfig } from '../config/server-config.js';
import type { LiveSource, SourcePlayConfig } from '../live/live-source.js';
import type { ConsumerOptions } from '../live/consumer.js';
import { SourceRegistry } from '../live/source-registry.js';
import { IdleHeapRelease } from './idle-heap-release.js';
import { ClientRegistry } from './client-registry.js';
import { ConnectionLimit } from './connection-limit.js';
import { Admission } from './admission.js';
import { HttpRoutes } from './http-route.js';
import { newServerIdentity, type ServerIdentity } from './server-identity.js';
import { TlsCertificates } from './tls-certificates.js';

/** A republish within this time keeps players attached (an encoder restart); then they get EOF. */
const REPUBLISH_WAIT_MS = 3000;

export interface ServerContextOptions {
  /** How long a source with no publisher and no player is kept (ms). */
  sourceIdleMs?: number;
  sourceSweepMs?: number;
  /** `server_id` when the config sets none (the CLI's id kept across restarts). */
  serverId?: string;
}

export class ServerContext {
  readonly sources: SourceRegistry;
  readonly clients = new ClientRegistry();
  readonly limit: ConnectionLimit;
  /** Hooks, security, ...: asked at connect, publish and play by every protocol. */
  readonly admission: Admission;
  readonly routes = new HttpRoutes();
  /** server_id, service_id and start time: one for the API, hooks, exporter and /rtc/v1. */
  readonly identity: ServerIdentity;
  /** Key/cert of every TLS listener, re-read on reload and when the files change. */
  readonly tls: TlsCertificates;
  /** True while shutting down gracefully: no new publish or play. */
  draining = false;
  private readonly sourceCreatedHandlers: ((source: LiveSource) => void)[] = [];

  constructor(
    public config: ServerConfig,
    readonly log: Logger,
    options: ServerContextOptions = {},
  ) {
    this.identity = newServerIdentity(config.serverId ?? options.serverId);
    this.admission = new Admission(log);
    this.sources = new SourceRegistry({
      idleTimeoutMs: options.sourceIdleMs ?? 5000,
      sweepIntervalMs: options.sourceSweepMs ?? 1000,
    });
    this.limit = new ConnectionLimit(config.maxConnections, log);
    this.tls = new TlsCertificates(config.tls, log);
    this.sources.onDispose = (s) => log.debug({ stream: s.key }, 'source freed');
    const heapRelease = new IdleHeapRelease(log);
    this.sources.onFreed = (freed, left) => heapRelease.noteFreed(freed, left);
    this.sources.onCreate = (s) => {
      for (const h of this.sourceCreatedHandlers) h(s);
    };
  }

  /** Called for every source created, so outputs can observe it (HLS, DASH, edge, stats). */
  onSourceCreated(handler: (source: LiveSource) => void): void {
    this.sourceCreatedHandlers.push(handler);
  }

  /** SRS's lookup: the named vhost, else `__defaultVhost__`, else none. Disabled counts as none. */
  vhost(name: string): VhostConfig | null {
    const v = this.config.getVhost(name);
    return v && v.enabled ? v : null;
  }

  applyConfig(config: ServerConfig): void {
    this.config = config;
    this.limit.max = config.maxConnections;
    this.tls.reload(config.tls);
    for (const source of this.sources.all()) {
      const v = this.vhost(source.vhost);
      if (!v) continue;
      source.reconfigure(sourcePlayConfig(v));
      const options = consumerOptions(v);
      for (const c of source.consumers) c.options = options;
    }
  }
}

export function sourcePlayConfig(v: VhostConfig): SourcePlayConfig {
  return {
    gopCache: v.play.gopCache,
    gopCacheMaxFrames: v.play.gopCacheMaxFrames,
    timeJitter: v.play.timeJitter,
    republishWaitMs: REPUBLISH_WAIT_MS,
  };
}

export function consumerOptions(v: VhostConfig): ConsumerOptions {
  return {
    queueLengthMs: v.play.queueLength * 1000,
    mwLatencyMs: v.minLatency ? 0 : v.play.mwLatency,
  };
}
