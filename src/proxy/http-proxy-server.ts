/**
 * The HTTP listener of `sluice proxy`: HTTP-FLV/TS, HLS and DASH requests
 * are forwarded to the origin of their stream. Playlists and segments of a
 * stream resolve to the same pin (httpStreamKeys), so one player's requests
 * all reach one origin whichever proxy they hit. Other paths get 404.
 */
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../log/logger.js';
import { closeServer, listen } from '../core/listen.js';
import { HTTP_SERVER_LIMITS } from '../core/http-limits.js';
import type { OriginRouter } from './origin-router.js';
import { originEndpoint } from './origin-endpoint.js';
import { httpStreamKeys } from './stream-key.js';
import type { RtcSignalRelay } from './rtc-signal-relay.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEnd(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}

function fail(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ code: status, message }));
}

export class HttpProxyServer {
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
  live = 0;

  constructor(
    private readonly router: OriginRouter,
    private readonly logger: Logger,
    /** WHIP/WHEP signalling, when the WebRTC relay is on. */
    private readonly rtc: RtcSignalRelay | null = null,
  ) {
    // The server's header limits; no whole-request deadline (an FLV player's request is a live stream).
    this.server = http.createServer({ ...HTTP_SERVER_LIMITS, requestTimeout: 0 }, (req, res) => this.handle(req, res));
  }

  /** The port it listens on (the system's pick for port 0). The server's backlog, for players arriving by the thousand. */
  async listen(port: number, host: string): Promise<number> {
    await listen(this.server, { host, port });
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    this.agent.destroy();
    return closeServer(this.server);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (this.rtc?.handle(req, res, url)) return;
    const keys = httpStreamKeys(url.pathname, url.search);
    if (!keys) {
      fail(res, 404, 'not a stream path');
      return;
    }
    this.router.routeFirstPinned(keys).then(
      (origin) => {
        const ep = originEndpoint(origin, 'http');
        if (!ep) {
          fail(res, 502, `origin ${origin.id} lists no HTTP port`);
          return;
        }
        this.forward(req, res, ep.host, ep.port, origin.id);
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        this.logger.warn({ path: url.pathname, err: message }, 'http proxy: no route');
        fail(res, 503, message);
      },
    );
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, host: string, port: number, originId: string): void {
    const up = http.request({ host, port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent: this.agent }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, endToEnd(ur.headers));
      this.live++;
      ur.pipe(res);
      ur.on('error', () => res.destroy());
      res.on('close', () => {
        this.live--;
        if (!ur.complete) ur.destroy();
      });
    });
    up.on('error', (err) => {
      this.logger.warn({ origin: originId, err: err.message }, 'http proxy: origin request failed');
      fail(res, 502, `origin ${originId}: ${err.message}`);
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }
}
