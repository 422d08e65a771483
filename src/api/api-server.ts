/**
 * The HTTP API listener (`http_api`, port 1985). SluiceServer creates it; the
 * ops feature adds the HTTPS API and the exporter listeners with the same
 * handler (api-handler.ts).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { ServerContext } from '../core/server-context.js';
import { serverIdentity, type ServerIdentity } from '../core/server-identity.js';
import { createApiHandler } from './api-handler.js';

export type ApiIdentity = ServerIdentity;

export function createApiServer(ctx: ServerContext, identity: ApiIdentity): http.Server {
  const id = serverIdentity(ctx, identity);
  const handler = createApiHandler(ctx, id, { ownPort: true, featureRoutes: true });
  const server = http.createServer({ keepAlive: true }, handler);
  server.on('connection', (socket: Socket) => ctx.limit.admit(socket, 'api'));
  server.on('clientError', (_err, socket) => {
    if ((socket as Socket).writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
