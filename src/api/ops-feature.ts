/**
 * The operations feature: statistics, access control (security, refer), HTTP
 * callbacks, the Prometheus exporter, the HTTPS API, the console and player
 * pages. Installed once per server through FEATURES.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Socket, Server as NetServer } from 'node:net';
import type { Feature, FeatureHandle } from '../core/feature.js';
import type { ServerContext } from '../core/server-context.js';
import type { Endpoint } from '../config/endpoint.js';
import { endpointEquals } from '../config/endpoint.js';
import { corsHeaders } from '../core/http-cors.js';
import { serverStats } from '../ops/stats/server-stats.js';
import { serverIdentity } from '../core/server-identity.js';
import { SecurityPolicy } from '../ops/security/security-policy.js';
import { httpHooksOf } from '../ops/hooks/http-hooks.js';
import { onHlsSegment } from '../outputs/hls/hls-events.js';
import { createServerMetrics, dropServerMetrics } from '../ops/exporter/metrics.js';
import { createApiHandler } from './api-handler.js';
import { serveWeb } from './web-assets.js';

/** True when `http_api` is served by the HTTP server's listener (same `listen`), as SRS allows. */
export function apiSharesHttpPort(ctx: ServerContext): boolean {
  const c = ctx.config;
  return c.httpApi.enabled && c.httpServer.enabled && endpointEquals(c.httpApi.listen, c.httpServer.listen);
}

function listen(server: NetServer, ep: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (ep.host) server.listen(ep.port, ep.host, done);
    else server.listen(ep.port, done);
  });
}

/**
 * Where the console and players find the API from a page served by the HTTP
 * server: same origin when the API shares the port, else the API's port on
 * the host the browser used. null when the API is off.
 */
export function pageConfig(ctx: ServerContext, hostHeader: string | undefined, shared: boolean): Record<string, unknown> {
  const api = ctx.config.httpApi;
  if (!api.enabled) return { api: null };
  if (shared) return { api: '' };
  const host = (hostHeader ?? '127.0.0.1').replace(/:\d+$/, '');
  return { api: `http://${host}:${api.listen.port}`, apiHttps: api.https.enabled ? `https://${host}:${api.https.listen.port}` : null };
}

export const opsFeature: Feature = {
  name: 'ops',
  async install(ctx: ServerContext): Promise<FeatureHandle> {
    const stats = serverStats(ctx);
    stats.start();
    const hooks = httpHooksOf(ctx);
    ctx.policies.push(stats.policy, new SecurityPolicy(ctx), hooks);
    // on_hls / on_hls_notify for every segment the HLS writer keeps.
    const unsubscribeHls = onHlsSegment(ctx, (n) => {
      const publisherId = ctx.sources.get(n.vhost, n.app, n.stream)?.publisher?.id ?? '';
      const publisher = publisherId ? ctx.clients.get(publisherId) : undefined;
      hooks.onHls({
        vhost: n.vhost,
        app: n.app,
        stream: n.stream,
        param: n.param,
        tcUrl: n.tcUrl,
        clientId: publisherId,
        ip: publisher?.ip ?? '',
        duration: n.duration,
        cwd: n.cwd,
        file: n.file,
        url: n.url,
        m3u8: n.m3u8,
        m3u8Url: n.m3u8Url,
        seqNo: n.seq,
      });
    });

    const listeners: http.Server[] = [];
    const lazyHandler = (ownPort: boolean, featureRoutes: boolean): http.RequestListener => {
      let h: http.RequestListener | null = null;
      return (req, res) => (h ??= createApiHandler(ctx, serverIdentity(ctx), { ownPort, featureRoutes }))(req, res);
    };

    // Console, players and assets on the HTTP server; the API too when it shares the port.
    const shared = apiSharesHttpPort(ctx);
    const onHttpPort = lazyHandler(false, true);
    ctx.streamRoutes.push((req, res, url) => {
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
      return serveWeb(req, res, url, corsHeaders(req, ctx.config.httpServer.crossdomain), true, () => pageConfig(ctx, req.headers.host, shared));
    });

    const cfg = ctx.config;
    if (cfg.exporter.enabled) {
      const metrics = createServerMetrics(ctx);
      hooks.observer = (action, seconds, ok) => metrics.observeHook(action, seconds, ok);
      const server = http.createServer({ keepAlive: true }, lazyHandler(false, false));
      server.on('connection', (socket: Socket) => ctx.limit.admit(socket, 'exporter'));
      await listen(server, cfg.exporter.listen);
      listeners.push(server);
      ctx.log.info({ port: cfg.exporter.listen.port }, 'Prometheus exporter listening');
    }
    if (cfg.httpApi.enabled && cfg.httpApi.https.enabled) {
      const tls = cfg.httpApi.https;
      const server = https.createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert), keepAlive: true }, lazyHandler(true, true));
      server.on('connection', (socket: Socket) => ctx.limit.admit(socket, 'https-api'));
      await listen(server, tls.listen);
      listeners.push(server);
      ctx.log.info({ port: tls.listen.port }, 'HTTPS API listening');
    }

    return {
      async stop() {
        unsubscribeHls();
        stats.stop();
        dropServerMetrics(ctx);
        await Promise.all(
          listeners.map(
            (s) =>
              new Promise<void>((resolve) => {
                s.close(() => resolve());
                s.closeAllConnections();
              }),
          ),
        );
      },
    };
  },
};
