/**
 * The HTTPS server as HTTP/2 and HTTP/1.1 on one port (ALPN `h2`, then
 * `http/1.1`; `http_server.https.http2`, docs/TLS.md). An h2 request reaches
 * the same routes through Node's compatibility objects, which have what the
 * routes use (writeHead/write/end, cork, 'drain'/'close', `req.socket` for
 * addresses and setNoDelay/setTimeout). A route that writes to the raw socket
 * itself (HTTP-FLV's own chunked framing) checks `req.httpVersionMajor`. A
 * WebSocket upgrade is HTTP/1.1 (browsers open a separate HTTP/1.1
 * connection for wss:// when the server offers no RFC 8441), so it arrives
 * as the usual 'upgrade' event.
 */
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { HTTP_SERVER_LIMITS } from './http-limits.js';
import type { CertFiles } from './tls-certificates.js';
import type { ServerContext } from './server-context.js';

/** An h2 connection with no frame for this long is closed (a client that opens a session and sends nothing). */
const H2_IDLE_TIMEOUT_MS = 120_000;
/** An idle HTTP/1.1 keep-alive on the HTTPS port is closed after this, as on the HTTP port (Node's default). */
const HTTP1_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Concurrent streams per h2 connection: enough for a page of LL-HLS renditions, bounded for a single peer. */
const H2_MAX_STREAMS = 128;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function createH2Server(ctx: ServerContext, files: CertFiles, handler: Handler): http2.Http2SecureServer & { closeIdleConnections(): void } {
  const maxHeader = HTTP_SERVER_LIMITS.maxHeaderSize ?? 16 * 1024;
  const server = http2.createSecureServer({
    ...ctx.tls.serverOptions(files, 'https'),
    allowHTTP1: true,
    settings: { maxConcurrentStreams: H2_MAX_STREAMS, maxHeaderListSize: maxHeader },
  });
  // The HTTP/1.1 side of the port reads these from the server, as http.Server does: same bounds as the HTTP port
  // (and http.Server's 5 s keep-alive timeout, which an Http2SecureServer does not set).
  Object.assign(server, {
    maxHeaderSize: maxHeader,
    headersTimeout: HTTP_SERVER_LIMITS.headersTimeout,
    requestTimeout: HTTP_SERVER_LIMITS.requestTimeout,
    keepAliveTimeout: HTTP1_KEEP_ALIVE_TIMEOUT_MS,
  });
  server.setTimeout(H2_IDLE_TIMEOUT_MS);

  const sessions = new Set<http2.ServerHttp2Session>();
  /** HTTP/1.1 connections of this port and how many responses each has in flight: close() must not wait on idle keep-alives. */
  const h1 = new Map<Socket, number>();
  let closing = false;
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', (err: Error) => ctx.log.debug({ err: err.message }, 'HTTP/2 session error'));
    if (closing) session.close();
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') return;
    h1.set(socket, 0);
    socket.once('close', () => h1.delete(socket));
  });
  server.on('request', (req: http2.Http2ServerRequest | IncomingMessage, res: http2.Http2ServerResponse | ServerResponse) => {
    if (req instanceof http2.Http2ServerRequest) return handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    const socket = req.socket;
    h1.set(socket, (h1.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (h1.get(socket) ?? 1) - 1;
      if (h1.has(socket)) h1.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
    handler(req, res as ServerResponse);
  });
  return Object.assign(server, {
    closeIdleConnections(): void {
      closing = true;
      // GOAWAY: streams under way finish (they are closed with their clients), then the session goes.
      for (const s of sessions) s.close();
      for (const [socket, inFlight] of h1) if (inFlight === 0) socket.destroy();
    },
  });
}
