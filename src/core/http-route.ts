/**
 * How features add HTTP endpoints without editing the servers: a route gets
 * the request first and returns true when it answered it (sync or async).
 * The composition root installs the features in a fixed order, and each
 * list is asked in that order.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

/**
 * Asked in order, only after every route declined, just before the 404: for
 * answers that need the disk (static files), so that a stat never blocks the
 * event loop nor hides a live route. Resolves true when it answered.
 */
export type FallbackRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/** An HTTP upgrade (WebSocket) handler on the HTTP server: returns true when it took the socket. */
export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean;

/** The endpoints of the two HTTP listeners: the HTTP server (`http_server`, 8080) and the API server (`http_api`, 1985). */
export class HttpRoutes {
  /** Asked by the HTTP server first (live streams, HLS, DASH, console). */
  readonly stream: HttpRoute[] = [];
  /** Asked by the API server before its own endpoints (WebRTC signalling). */
  readonly api: HttpRoute[] = [];
  /** The HTTP server's async last resorts before its 404 (static files, players waiting for a stream). */
  readonly fallback: FallbackRoute[] = [];
  /** WebSocket upgrades on the HTTP server (WS-FLV / WS-TS); an upgrade no route takes is refused. */
  readonly upgrade: UpgradeRoute[] = [];
}
