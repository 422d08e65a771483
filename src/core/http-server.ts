/**
 * The HTTP server (`http_server`, port 8080 by default). It knows no stream
 * format: the features' routes answer (live FLV/TS/AAC/MP3, HLS, DASH,
 * console, static files); an OPTIONS preflight gets CORS, and what no route
 * takes gets a 404. The HTTPS server (`http_server.https`) is the same
 * server over TLS: HTTP/2 and HTTP/1.1 on one port (ALPN), or HTTP/1.1 only
 * with `http2 off` (see docs/TLS.md).
 */
import http from 'node:http';
import https from 'node:https';
import type { Server, Socket } from 'node:net';
import { corsHeaders } from './http-cors.js';
import { HTTP_SERVER_LIMITS, clientErrorAnswer } from './http-limits.js';
import { createH2Server } from './http2-server.js';
import { clip } from '../log/clip.js';
import { notFound } from './static-files.js';
import type { ServerContext } from './server-context.js';

export function createHttpServer(ctx: ServerContext): http.Server {
  const server = http.createServer({ ...HTTP_SERVER_LIMITS, keepAlive: true }, (req, res) => handle(ctx, req, res));
  return serveOn(ctx, server, 'http');
}

/** What the composition root does with an HTTP(S) listener: listen, stop accepting, let idle keep-alives go. */
export type HttpListener = Server & { closeIdleConnections(): void };

/** The HTTPS server: the same routes; its key/cert are tracked by ctx.tls (reload, file changes, SNI). */
export function createHttpsServer(ctx: ServerContext): HttpListener {
  const files = { key: ctx.config.httpServer.https.key, cert: ctx.config.httpServer.https.cert };
  if (ctx.config.httpServer.http2) {
    const server = createH2Server(ctx, files, (req, res) => handle(ctx, req, res));
    ctx.tls.attach(server, files, 'https');
    return serveOn(ctx, server, 'https');
  }
  const server = https.createServer({ ...HTTP_SERVER_LIMITS, keepAlive: true, ...ctx.tls.serverOptions(files, 'https') }, (req, res) => handle(ctx, req, res));
  ctx.tls.attach(server, files, 'https');
  return serveOn(ctx, server, 'https');
}

function serveOn<S extends Server>(ctx: ServerContext, server: S, listener: string): S {
  // On HTTPS, 'connection' is the TCP connection before its handshake: a stalled handshake holds a slot until the handshake timeout.
  server.on('connection', (socket: Socket) => ctx.limit.admit(socket, listener));
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    for (const route of ctx.routes.upgrade) if (route(req, socket, head, url)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('clientError', (err: Error, socket: Socket) => {
    ctx.log.debug({ err: err.message, ip: socket.remoteAddress }, 'bad HTTP request');
    if (socket.writable) socket.end(clientErrorAnswer(err));
    else socket.destroy();
  });
  return server;
}

function handle(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  const cors = corsHeaders(req, ctx.config.httpServer.crossdomain);
  if (req.method === 'OPTIONS') {
    res.writeHead(ctx.config.httpServer.crossdomain ? 200 : 405, { ...cors, 'Content-Length': '0' });
    res.end();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  for (const route of ctx.routes.stream) if (route(req, res, url)) return;
  if (ctx.routes.fallback.length === 0 || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound(res, cors);
  void fallback(ctx, req, res, url, cors);
}

/** The async last resorts (static files), then 404. */
async function fallback(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL, cors: Record<string, string>): Promise<void> {
  try {
    for (const route of ctx.routes.fallback) if (await route(req, res, url)) return;
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message, path: clip(url.pathname, 200) }, 'HTTP fallback route failed');
    if (res.headersSent) return void res.destroy();
  }
  if (!res.destroyed && !res.headersSent) notFound(res, cors);
}
