/**
 * How features add HTTP endpoints without editing the servers: a route gets
 * the request first and returns true when it answered it (sync or async).
 * `ctx.streamRoutes` are asked by the HTTP server (port 8080) before its own
 * live-stream mounts; `ctx.apiRoutes` by the API server (port 1985) before
 * its own endpoints.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

/**
 * Asked in order, only after every route and live mount declined, just
 * before the 404: for answers that need the disk (static files), so that a
 * stat never blocks the event loop nor hides a live route. Resolves true
 * when it answered.
 */
export type FallbackRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/** An HTTP upgrade (WebSocket) handler on the HTTP server: returns true when it took the socket. */
export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean;
