/**
 * SluiceServer: the whole server as an object — what the CLI runs and what an
 * application embeds. It makes the shared context, installs the features the
 * composition (features.ts) lists, owns the HTTP listener they share, and
 * knows how to start, reload and stop (fast or gracefully).
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerConfig } from '../config/server-config.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { ServerContext, type ServerContextOptions } from '../core/server-context.js';
import type { FeatureHandle } from '../core/feature.js';
import { createHttpServer } from '../core/http-server.js';
import { listen } from '../core/listen.js';
import { compose, type Composition } from './features.js';

export interface SluiceServerOptions extends ServerContextOptions {
  config: ServerConfig;
  logger?: Logger;
}

export interface ListeningPorts {
  rtmp: number[];
  http: number | null;
  api: number | null;
}

export class SluiceServer {
  readonly ctx: ServerContext;
  private http: http.Server | null = null;
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
    this.composition = compose(this.ctx);
    for (const f of this.composition.features) this.features.push(await f.install(this.ctx));
    if (cfg.httpServer.enabled) {
      this.http = createHttpServer(this.ctx);
      await listen(this.http, cfg.httpServer.listen);
    }
    const ports = this.ports();
    this.log.info({ ...ports }, 'Sluice is listening');
    return ports;
  }

  ports(): ListeningPorts {
    const http = (this.http?.address() as AddressInfo | null)?.port ?? null;
    return { rtmp: this.composition?.rtmp.ports() ?? [], http, api: this.composition?.api.port() ?? null };
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
    const http = this.http;
    if (http?.listening) await new Promise<void>((r) => http.once('close', () => r()));
    this.log.info('Sluice stopped');
  }

  /**
   * Graceful stop (SIGQUIT): refuse new publish/play, let publishers finish by
   * themselves for at most `maxWaitMs`, then stop.
   */
  async stopGracefully(maxWaitMs: number): Promise<void> {
    this.ctx.draining = true;
    this.stopListening();
    const deadline = Date.now() + maxWaitMs;
    this.log.info({ publishers: this.ctx.clients.publishers().length, maxWaitMs }, 'graceful stop: waiting for publishers to finish');
    while (this.ctx.clients.publishers().length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const left = this.ctx.clients.publishers().length;
    if (left > 0) this.log.warn({ publishers: left }, 'graceful stop: wait is over, cutting the remaining publishers');
    await this.stop();
  }

  private stopListening(): void {
    this.composition?.rtmp.stopListening();
    this.composition?.api.stopListening();
    this.http?.close();
    this.http?.closeIdleConnections();
  }
}
