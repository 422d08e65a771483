/**
 * SluiceServer: the whole server as an object — what the CLI runs and what an
 * application embeds. It owns the listeners and the shared context, and knows
 * how to start, reload and stop (fast or gracefully).
 */
import net from 'node:net';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerConfig } from '../config/server-config.js';
import type { Endpoint } from '../config/endpoint.js';
import { type Logger, silentLogger, randomId } from '../log/logger.js';
import { ServerContext, type ServerContextOptions } from '../core/server-context.js';
import { RtmpSession } from '../servers/rtmp/rtmp-session.js';
import { createHttpStreamServer } from '../core/http-stream-server.js';
import { createApiServer } from '../api/api-server.js';
import { apiSharesHttpPort } from '../api/ops-feature.js';
import type { FeatureHandle } from '../core/feature.js';
import { FEATURES } from './features.js';

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
  private readonly rtmp: net.Server[] = [];
  private http: http.Server | null = null;
  private api: http.Server | null = null;
  private readonly startedAt = Date.now();
  private readonly features: FeatureHandle[] = [];
  readonly serviceId = randomId(8);

  constructor(options: SluiceServerOptions) {
    this.ctx = new ServerContext(options.config, options.logger ?? silentLogger(), options);
  }

  get log(): Logger {
    return this.ctx.log;
  }

  async start(): Promise<ListeningPorts> {
    const cfg = this.ctx.config;
    for (const f of FEATURES) this.features.push(await f.install(this.ctx));
    for (const ep of cfg.listen) {
      const server = net.createServer({ noDelay: false }, (socket) => {
        if (this.ctx.limit.admit(socket, 'rtmp')) new RtmpSession(socket, this.ctx);
      });
      await listen(server, ep);
      this.rtmp.push(server);
    }
    if (cfg.httpServer.enabled) {
      this.http = createHttpStreamServer(this.ctx);
      await listen(this.http, cfg.httpServer.listen);
    }
    // When http_api shares the HTTP server's listen, the HTTP server answers the API (ops feature).
    if (cfg.httpApi.enabled && !apiSharesHttpPort(this.ctx)) {
      this.api = createApiServer(this.ctx, {
        serverId: cfg.serverId ?? `vid-${randomId(7)}`,
        serviceId: this.serviceId,
        startedAt: this.startedAt,
      });
      await listen(this.api, cfg.httpApi.listen);
    }
    const ports = this.ports();
    this.log.info({ ...ports }, 'Sluice is listening');
    return ports;
  }

  ports(): ListeningPorts {
    const port = (s: net.Server | null): number | null => (s?.address() as AddressInfo | null)?.port ?? null;
    return { rtmp: this.rtmp.map((s) => port(s)!), http: port(this.http), api: port(this.api) };
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
    this.closeListeners();
    for (const c of [...this.ctx.clients.all()]) c.close('server stopping');
    for (const f of this.features) await f.stop?.();
    this.ctx.sources.close();
    await this.waitListenersClosed();
    this.log.info('Sluice stopped');
  }

  /**
   * Graceful stop (SIGQUIT): refuse new publish/play, let publishers finish by
   * themselves for at most `maxWaitMs`, then stop.
   */
  async stopGracefully(maxWaitMs: number): Promise<void> {
    this.ctx.draining = true;
    this.closeListeners();
    const deadline = Date.now() + maxWaitMs;
    this.log.info({ publishers: this.ctx.clients.publishers().length, maxWaitMs }, 'graceful stop: waiting for publishers to finish');
    while (this.ctx.clients.publishers().length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const left = this.ctx.clients.publishers().length;
    if (left > 0) this.log.warn({ publishers: left }, 'graceful stop: wait is over, cutting the remaining publishers');
    await this.stop();
  }

  private closeListeners(): void {
    for (const s of this.rtmp) s.close();
    this.http?.close();
    this.api?.close();
    this.http?.closeIdleConnections();
    this.api?.closeAllConnections();
  }

  private async waitListenersClosed(): Promise<void> {
    const all: net.Server[] = [...this.rtmp, ...(this.http ? [this.http] : []), ...(this.api ? [this.api] : [])];
    await Promise.all(all.map((s) => new Promise<void>((r) => (s.listening ? s.once('close', () => r()) : r()))));
  }
}

const LISTEN_BACKLOG = 4096;

function listen(server: net.Server, ep: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    // Node's default backlog (511) drops connections when thousands of
    // players arrive at once; the kernel caps this at net.core.somaxconn.
    server.listen({ port: ep.port, host: ep.host ?? undefined, backlog: LISTEN_BACKLOG }, done);
  });
}
