/**
 * An HTTP API listener (`http_api`, port 1985; also its HTTPS port and the
 * exporter's): the connection limit and a bounded answer to bad requests
 * around the API handler (api-handler.ts).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { ServerContext } from '../core/server-context.js';
import { HTTP_SERVER_LIMITS, clientErrorAnswer } from '../core/http-limits.js';

export function createApiServer(ctx: ServerContext, handler: http.RequestListener, listener: string): http.Server {
  const server = http.createServer({ ...HTTP_SERVER_LIMITS, keepAlive: true }, handler);
  watchApiServer(ctx, server, listener);
  return server;
}

export function watchApiServer(ctx: ServerContext, server: http.Server, listener: string): void {
  server.on('connection', (socket: Socket) => ctx.limit.admit(socket, listener));
  server.on('clientError', (err, socket) => {
    if ((socket as Socket).writable) socket.end(clientErrorAnswer(err));
    else socket.destroy();
  });
}
