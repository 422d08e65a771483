/**
 * The origin cluster as a feature: the redirect policy at the admission door
 * (RTMP and HTTP-FLV/TS players), and a last HTTP fallback that answers a
 * playlist this origin does not have with a 302 to the coworker that
 * publishes the stream (its segments then come from there, relative to the
 * playlist). Installed after HLS and the static files, so a playlist here
 * is always served here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { posix } from 'node:path';
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import { corsHeaders } from '../../core/http-cors.js';
import { requestHost, requestVhost } from '../../core/http-request.js';
import { safeRequestPath } from '../../core/static-files.js';
import { isSafeStreamName } from '../../protocol/stream-url.js';
import { OriginClusterPolicy, type Discover } from './origin-cluster-policy.js';

async function redirectPlaylist(ctx: ServerContext, policy: OriginClusterPolicy, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const path = safeRequestPath(url.pathname);
  if (path === null || !path.endsWith('.m3u8')) return false;
  const app = posix.dirname(path).replace(/^\/+/, '');
  const stream = posix.basename(path, '.m3u8');
  if (!app || !isSafeStreamName(app) || !isSafeStreamName(stream)) return false;
  const c = policy.coworkersFor(requestVhost(req, url), app, stream);
  if (!c) return false;
  const host = requestHost(req) ?? '';
  const loc = await policy.locate({ vhost: c.vhost, host, app, stream }, c.coworkers, true);
  if (!loc || res.headersSent || res.destroyed) return false;
  const ip = loc.ip.includes(':') ? `[${loc.ip}]` : loc.ip;
  const location = `http://${ip}:${loc.httpPort}${req.url ?? path}`;
  const body = `Redirect to ${location}`;
  res.writeHead(302, { ...corsHeaders(req, ctx.config.httpServer.crossdomain), Location: location, 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  ctx.log.info({ path, to: `${loc.ip}:${loc.httpPort}` }, 'HLS playlist redirected to the origin that has the stream');
  return true;
}

export function clusterFeature(discover?: Discover): Feature {
  return {
    name: 'origin-cluster',
    install(ctx: ServerContext): FeatureHandle {
      const policy = new OriginClusterPolicy(ctx, discover);
      ctx.admission.use(policy);
      ctx.routes.fallback.push((req, res, url) => redirectPlaylist(ctx, policy, req, res, url));
      return {};
    },
  };
}
