/** Listening on a configured endpoint, the same way for every TCP listener of the server. */
import type { Server } from 'node:net';
import type { Endpoint } from '../config/endpoint.js';

/** Node's default backlog (511) drops connections when thousands of players arrive at once; the kernel caps this at net.core.somaxconn. */
const LISTEN_BACKLOG = 4096;

export function listen(server: Server, ep: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: ep.port, host: ep.host ?? undefined, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Closes a listener and every connection it still holds; resolves once it is closed. */
export function closeServer(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
