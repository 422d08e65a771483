/**
 * The HTTP server's own files: `http_server.dir` (SRS's web root, where
 * SRS's players and a default hls_path live) at `/`, and each vhost's
 * `http_static` mount (static-mounts.ts), through the same static-file
 * server and path jail. Its guard refuses, with a 403 and one log line, any
 * request path that tries to leave a root, before a live route or a file
 * lookup sees it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Feature } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import { corsHeaders } from '../../core/http-cors.js';
import { clientIp } from '../../core/http-request.js';
import { clip } from '../../log/clip.js';
import { safeRequestPath, serveStaticFile } from '../../core/static-files.js';
import { hostOf, matchMount, vhostMounts } from './static-mounts.js';

function requestPath(req: IncomingMessage): { raw: string; path: string | null } {
  const raw = (req.url ?? '/').split('?')[0]!;
  return { raw, path: safeRequestPath(raw.startsWith('/') ? raw : `/${raw}`) };
}

function guard(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const { raw, path } = requestPath(req);
  if (path !== null) return false;
  ctx.log.warn({ ip: clientIp(req), path: clip(raw, 200) }, 'HTTP path refused (outside the web root)');
  res.writeHead(403, { ...corsHeaders(req, ctx.config.httpServer.crossdomain), 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Forbidden');
  return true;
}

async function serveWebRoot(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const { path } = requestPath(req);
  if (path === null) return false;
  const cors = corsHeaders(req, ctx.config.httpServer.crossdomain);
  // A vhost mount owns its prefix (a file missing there is a 404, as SRS); a mount of `/` replaces the web root.
  const hit = matchMount(vhostMounts(ctx.config.vhosts), hostOf(req.headers.host), path);
  if (hit) return serveStaticFile([hit.mount.dir], req, res, url, hit.rest, cors);
  return serveStaticFile([ctx.config.httpServer.dir], req, res, url, path, cors);
}

export const httpStaticFeature: Feature = {
  name: 'http-static',
  install(ctx) {
    ctx.routes.stream.push((req, res) => guard(ctx, req, res));
    ctx.routes.fallback.push((req, res, url) => serveWebRoot(ctx, req, res, url));
    return {};
  },
};
