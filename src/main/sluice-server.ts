/**
 * SluiceServer: the whole server as an object — what the CLI runs and what an
 * application embeds. It makes the shared context, installs the features the
 * composition (features.ts) lists, owns the HTTP listener they share, and
 * knows how to start, reload and stop (fast or gracefully).
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerConfig } from '../config/server-config.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { ServerContext, type ServerContextOptions } from '../core/server-context.js';
import type { FeatureHandle } from '../core/feature.js';
import { createHttpServer, createHttpsServer, type HttpListener } from '../core/http-server.js';
import { listen } from '../core/listen.js';
import { compose, type Composition } from './features.js';
import { directWriteMode } from '../core/tcp-writer-addon.js';

export interface SluiceServerOptions extends ServerContextOptions {
  config: ServerConfig;
  logger?: Logger;
}

/** The waits of a graceful stop (ms): SRS's `grace_start_wait`, `grace_final_wait`, and Sluice's cap on publishers. */
export interface GracefulWaits {
  startWaitMs: number;
  finalWaitMs: number;
  maxPublisherWaitMs: number;
}

/** Waits `ms`, or less when `abort` fires; never rejects. */
async function pause(ms: number, abort?: AbortSignal): Promise<void> {
  if (ms <= 0 || abort?.aborted) return;
  await sleep(ms, undefined, { signal: abort }).catch(() => undefined);
}

export interface ListeningPorts {
  rtmp: number[];
  http: number | null;
  api: number | null;
  /** `http_server.https`, null when off. */
  https: number | null;
  /** `rtmps`, null when off. */
  rtmps: number | null;
}

export class SluiceServer {
  readonly ctx: ServerContext;
  private http: http.Server | null = null;
  private https: HttpListener | null = null;
  private composition: Composition | null = null;
  private readonly features: FeatureHandle[] = [];

  constructor(options: SluiceServerOptions) {
    this.ctx = new ServerContext(options.config, options.logger ?? silentLogger(), options);
  }

  get log(): Logger {
    return this.ctx.log;
  }

  /** The server's `service_id` (also in the API envelope, hook bodies and /rtc/v1 replies). */
  get serviceId(): string {
    return this.ctx.identity.serviceId;
  }

  async start(): Promise<ListeningPorts> {
    const cfg = this.ctx.config;
    this.composition = await compose(this.ctx);
    for (const f of this.composition.features) this.features.push(await f.install(this.ctx));
    if (cfg.httpServer.enabled) {
      this.http = createHttpServer(this.ctx);
      await listen(this.http, cfg.httpServer.listen);
    }
    if (cfg.httpServer.enabled && cfg.httpServer.https.enabled) {
      this.https = createHttpsServer(this.ctx);
      await listen(this.https, cfg.httpServer.https.listen);
    }
    const ports = this.ports();
    this.log.info({ ...ports, streamWrites: directWriteMode() }, 'Sluice is listening');
    return ports;
  }

  ports(): ListeningPorts {
    const http = (this.http?.address() as AddressInfo | null)?.port ?? null;
    const https = (this.https?.address() as AddressInfo | null)?.port ?? null;
    const rtmps = this.composition?.rtmp.rtmpsPort() ?? null;
    return { rtmp: this.composition?.rtmp.ports() ?? [], http, api: this.composition?.api.port() ?? null, https, rtmps };
  }

  /** Applies a new config (SIGHUP). Vhost-level settings reach live streams at once; listeners stay. */
  reload(config: ServerConfig): void {
    this.ctx.applyConfig(config);
    for (const f of this.features) f.reload?.();
    this.log.info('config reloaded');
  }

  /**
   * Fast stop (SIGTERM): close listeners and every session now. Publishers are
   * cut, each with a log line.
   */
  async stop(): Promise<void> {
    this.stopListening();
    for (const c of [...this.ctx.clients.all()]) c.close('server stopping');
    for (const f of this.features) await f.stop?.();
    this.ctx.sources.close();
    for (const server of [this.http, this.https]) if (server?.listening) await new Promise<void>((r) => server.once('close', () => r()));
    this.ctx.tls.close();
    this.log.info('Sluice stopped');
  }

  /**
   * Graceful stop (SIGQUIT), SRS's sequence: listeners stay open for
   * `startWaitMs` (a load balancer that was told first stops sending new
   * clients; those already on their way are still served), then close; no new
   * publish or play; publishers finish by themselves (for at most
   * `maxPublisherWaitMs`, where SRS waits for ever); everything stops; then
   * `finalWaitMs` passes before the promise resolves (the caller exits). An
   * abort (a fast-stop signal meanwhile) skips what is left of the waits.
   */
  async stopGracefully(waits: GracefulWaits, abort?: AbortSignal): Promise<void> {
    this.log.info({ graceStartWait: waits.startWaitMs }, 'graceful stop: listeners stay open for grace_start_wait');
    await pause(waits.startWaitMs, abort);
    this.ctx.draining = true;
    this.stopListening();
    for (const f of this.features) await f.onListenersClosed?.();
    const maxWaitMs = waits.maxPublisherWaitMs;
    this.log.info({ publishers: this.ctx.clients.publishers().length, maxWaitMs }, 'graceful stop: listeners closed, waiting for publishers to finish');
    const deadline = Date.now() + maxWaitMs;
    while (this.ctx.clients.publishers().length > 0 && Date.now() < deadline && !abort?.aborted) await pause(200, abort);
    const left = this.ctx.clients.publishers().length;
    if (left > 0) this.log.warn({ publishers: left }, 'graceful stop: wait is over, cutting the remaining publishers');
    await this.stop();
    if (abort?.aborted) return;
    this.log.info({ graceFinalWait: waits.finalWaitMs }, 'graceful stop: grace_final_wait before exit');
    await pause(waits.finalWaitMs, abort);
  }

  private stopListening(): void {
    this.composition?.rtmp.stopListening();
    this.composition?.api.stopListening();
    for (const server of [this.http, this.https]) {
      server?.close();
      server?.closeIdleConnections();
    }
  }
}
