/**
 * The HTTP server (`http_server`, port 8080 by default): live HTTP-FLV at the
 * `http_remux` mounts. Later issues add HLS/DASH and static files here.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { DEFAULT_VHOST, isSafeStreamName, streamUrl } from '../protocol/stream-url.js';
import { randomId } from '../log/logger.js';
import type { VhostConfig } from '../config/server-config.js';
import type { ClientSession } from './client-registry.js';
import { AccessDenied, admit } from './session-policy.js';
import { matchMount } from '../servers/http-live/http-remux-mount.js';
import { HttpFlvSession } from '../servers/http-live/http-flv-session.js';
import { corsHeaders } from './http-cors.js';
import type { ServerContext } from './server-context.js';

export function createHttpStreamServer(ctx: ServerContext): http.Server {
  const server = http.createServer({ keepAlive: true }, (req, res) => handle(ctx, req, res));
  server.on('connection', (socket: Socket) => ctx.limit.admit(socket, 'http'));
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    for (const route of ctx.upgradeRoutes) if (route(req, socket, head, url)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('clientError', (err, socket) => {
    ctx.log.debug({ err: err.message, ip: (socket as Socket).remoteAddress }, 'bad HTTP request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

/** The client address, with X-Forwarded-For / X-Real-IP honoured as SRS does. */
export function clientIp(req: http.IncomingMessage): string {
  const xff = req.headers['x-forwarded-for'];
  if (typeof xff === 'string' && xff.trim()) return xff.split(',')[0]!.trim();
  const real = req.headers['x-real-ip'];
  if (typeof real === 'string' && real.trim()) return real.trim().replace(/:\d+$/, '');
  return req.socket.remoteAddress ?? '';
}

function handle(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  const cors = corsHeaders(req, ctx.config.httpServer.crossdomain);
  if (req.method === 'OPTIONS') {
    res.writeHead(ctx.config.httpServer.crossdomain ? 200 : 405, { ...cors, 'Content-Length': '0' });
    res.end();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  for (const route of ctx.streamRoutes) if (route(req, res, url)) return;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return notFound(res, cors);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return notFound(res, cors);
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const vhostName = url.searchParams.get('vhost') ?? url.searchParams.get('domain') ?? (host || DEFAULT_VHOST);
  const vhost = ctx.vhost(vhostName);
  if (vhost && vhost.httpRemux.enabled) {
    const m = matchMount(vhost.httpRemux.mount, vhost.name, path);
    if (m && m.ext === '.flv') {
      if (!isSafeStreamName(m.app) || !isSafeStreamName(m.stream)) return notFound(res, cors);
      if (ctx.draining) {
        res.writeHead(503, { ...cors, 'Content-Type': 'text/plain' });
        res.end('Server is shutting down');
        return;
      }
      servePlay(ctx, req, res, vhost, m.app, m.stream, url.search, cors);
      return;
    }
  }
  if (ctx.fallbackRoutes.length === 0) return notFound(res, cors);
  void fallback(ctx, req, res, url, cors);
}

/** The async last resorts (static files), then 404. */
async function fallback(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL, cors: Record<string, string>): Promise<void> {
  try {
    for (const route of ctx.fallbackRoutes) if (await route(req, res, url)) return;
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message, path: url.pathname.slice(0, 200) }, 'HTTP fallback route failed');
    if (res.headersSent) return void res.destroy();
  }
  if (!res.destroyed && !res.headersSent) notFound(res, cors);
}

/**
 * Asks the policies (on_play hook, security) before the response starts: a
 * denied player gets a 403 with no detail, as SRS refuses it.
 */
function servePlay(
  ctx: ServerContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  vhost: VhostConfig,
  app: string,
  stream: string,
  search: string,
  cors: Record<string, string>,
): void {
  const ip = clientIp(req);
  const id = randomId();
  const tcUrl = `http://${req.headers.host ?? ''}/${app}`;
  const probe: ClientSession = {
    id,
    ip,
    createdAt: Date.now(),
    type: 'flv-play',
    vhost: vhost.name,
    app,
    stream,
    param: search,
    tcUrl,
    pageUrl: typeof req.headers.referer === 'string' ? req.headers.referer : '',
    bytesIn: () => 0,
    bytesOut: () => 0,
    close: () => res.destroy(),
  };
  const start = (): void => {
    if (res.destroyed) return;
    new HttpFlvSession(id, req, res, ctx, ip, vhost.name, app, stream, search, vhost, cors);
  };
  const deny = (err: unknown): void => {
    const reason = err instanceof AccessDenied ? err.message : `policy failed: ${(err as Error).message}`;
    ctx.log.warn({ cid: id, ip, stream: streamUrl(vhost.name, app, stream), reason }, 'HTTP-FLV play denied');
    if (res.headersSent) return void res.destroy();
    res.writeHead(403, { ...cors, 'Content-Type': 'text/plain' });
    res.end('Forbidden');
  };
  let pending: Promise<void> | undefined;
  try {
    pending = admit(ctx.policies, 'onPlay', probe);
  } catch (err) {
    return deny(err);
  }
  if (pending) pending.then(start, deny);
  else start();
}

function notFound(res: http.ServerResponse, cors: Record<string, string>): void {
  res.writeHead(404, { ...cors, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not Found');
}
