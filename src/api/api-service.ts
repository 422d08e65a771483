/**
 * The HTTP API, the console and the player pages, on every port that serves
 * them: the API's own listener (`http_api.listen`), the HTTP server's port
 * (the console always; the API too when both share one `listen`, as SRS
 * allows; the HTTPS server's port likewise), the HTTPS API (`http_api.https`) and the exporter's port (its
 * `/metrics`). The statistics and metrics it shows are handed to it by the
 * composition root.
 */
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FeatureHandle } from '../core/feature.js';
import type { ServerContext } from '../core/server-context.js';
import { endpointEquals } from '../config/endpoint.js';
import { corsHeaders } from '../core/http-cors.js';
import { closeServer, listen } from '../core/listen.js';
import { createApiHandler, type ApiDeps } from './api-handler.js';
import { createApiServer, watchApiServer } from './api-server.js';
import { HTTP_SERVER_LIMITS } from '../core/http-limits.js';
import { serveWeb } from './web-assets.js';

/** True when `http_api` is served by the HTTP server's listener (same `listen`), as SRS allows. */
function apiSharesHttpPort(ctx: ServerContext): boolean {
  const c = ctx.config;
  return c.httpApi.enabled && c.httpServer.enabled && endpointEquals(c.httpApi.listen, c.httpServer.listen);
}

/**
 * Where the console and players find the API from a page served by the HTTP
 * server: same origin when the API shares the port, else the API's port on
 * the host the browser used. null when the API is off.
 */
function pageConfig(ctx: ServerContext, hostHeader: string | undefined, shared: boolean): Record<string, unknown> {
  const api = ctx.config.httpApi;
  if (!api.enabled) return { api: null };
  if (shared) return { api: '' };
  const host = (hostHeader ?? '127.0.0.1').replace(/:\d+$/, '');
  return { api: `http://${host}:${api.listen.port}`, apiHttps: api.https.enabled ? `https://${host}:${api.https.listen.port}` : null };
}

export class ApiService {
  private readonly listeners: http.Server[] = [];
  private apiListener: http.Server | null = null;

  constructor(
    private readonly ctx: ServerContext,
    private readonly deps: ApiDeps,
  ) {}

  /** The API's own port, or null when it is off or shares the HTTP port. */
  port(): number | null {
    return (this.apiListener?.address() as AddressInfo | null)?.port ?? null;
  }

  async install(): Promise<FeatureHandle> {
    const ctx = this.ctx;
    const cfg = ctx.config;
    const shared = apiSharesHttpPort(ctx);
    // Console, players and assets on the HTTP server; the API too when it shares the port.
    const onHttpPort = this.handler(false, true);
    ctx.routes.stream.push((req, res, url) => {
      const path = url.pathname;
      const isApi = path.startsWith('/api/') || path === '/api';
      if (isApi && (shared || path === '/api/v1/versions')) {
        onHttpPort(req, res);
        return true;
      }
      if (shared && path.startsWith('/rtc/')) {
        onHttpPort(req, res);
        return true;
      }
      return serveWeb(req, res, url, corsHeaders(req, cfg.httpServer.crossdomain), cfg.httpServer.dir, () => pageConfig(ctx, req.headers.host, shared));
    });

    if (cfg.httpApi.enabled && !shared) {
      this.apiListener = createApiServer(ctx, this.handler(true, true), 'api');
      await listen(this.apiListener, cfg.httpApi.listen);
      this.listeners.push(this.apiListener);
    }
    if (cfg.exporter.enabled) {
      const server = createApiServer(ctx, this.handler(false, false), 'exporter');
      await listen(server, cfg.exporter.listen);
      this.listeners.push(server);
      ctx.log.info({ port: cfg.exporter.listen.port }, 'Prometheus exporter listening');
    }
    // Sharing the HTTP port shares the HTTPS one too (contract §1.1): the HTTPS server serves the API then.
    if (cfg.httpApi.enabled && cfg.httpApi.https.enabled && !(shared && cfg.httpServer.https.enabled)) {
      const tls = cfg.httpApi.https;
      const files = { key: tls.key, cert: tls.cert };
      const server = https.createServer({ ...HTTP_SERVER_LIMITS, keepAlive: true, ...ctx.tls.serverOptions(files, 'https-api') }, this.handler(true, true));
      ctx.tls.attach(server, files, 'https-api');
      watchApiServer(ctx, server, 'https-api');
      await listen(server, tls.listen);
      this.listeners.push(server);
      ctx.log.info({ port: tls.listen.port }, 'HTTPS API listening');
    }
    return { stop: () => this.stop() };
  }

  /** No new API connections (graceful stop); open requests finish. */
  stopListening(): void {
    for (const s of this.listeners) s.close();
  }

  private handler(ownPort: boolean, featureRoutes: boolean): http.RequestListener {
    // Made on first use: most HTTP-port requests are media, not API.
    let h: http.RequestListener | null = null;
    return (req, res) => (h ??= createApiHandler(this.ctx, this.deps, { ownPort, featureRoutes }))(req, res);
  }

  private async stop(): Promise<void> {
    this.deps.metrics?.stop();
    await Promise.all(this.listeners.map(closeServer));
  }
}
