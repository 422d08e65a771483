/**
 * The HTTP live wing: players of a live stream at the `http_remux` mount.
 * `.flv` (HTTP-FLV, SRS's own), and beyond SRS's default: `.ts` (HTTP-TS),
 * `.aac` and `.mp3` (audio only) at the mount's path with that extension,
 * and WebSocket-FLV / WebSocket-TS when the request for `.flv` / `.ts` is a
 * WebSocket upgrade (SRS needs a proxy for this; we use `ws` in noServer
 * mode on the same port). Players pass the admission door (on_play,
 * security) before the first byte and are counted as clients.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import type { VhostConfig } from '../../config/vhost-config.js';
import type { ClientSession } from '../../core/client-registry.js';
import { corsHeaders } from '../../core/http-cors.js';
import { clientIp, requestBearer, requestPageUrl, requestVhost } from '../../core/http-request.js';
import type { Denial } from '../../core/admission.js';
import { matchMount } from './http-remux-mount.js';
import { writeBatch } from '../../core/socket-batch-writer.js';
import { isSafeStreamName } from '../../protocol/stream-url.js';
import { randomId } from '../../log/logger.js';
import { HttpFlvSession } from './http-flv-session.js';
import { REMUX_CONTENT_TYPES, type RemuxFormat } from './remux-encoders.js';
import { RemuxPlaySession, type RemuxTransport } from './remux-play-session.js';
import { AudioFastCache } from './audio-fast-cache.js';
import type { LiveSource } from '../../live/live-source.js';

/** A WebSocket player is slow when this much is queued. */
const WS_HIGH_WATER = 1 << 20;

interface Target {
  vhost: VhostConfig;
  app: string;
  stream: string;
  format: RemuxFormat;
}

class HttpLiveService {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  /** fast_cache: the last seconds of audio of each source, for new AAC/MP3 players. */
  private readonly fastCaches = new WeakMap<LiveSource, AudioFastCache>();

  constructor(private readonly ctx: ServerContext) {}

  install(): FeatureHandle {
    // SRS's mount takes `.flv` whether or not the stream is live (a player waits for its publisher).
    this.ctx.routes.stream.push((req, res, url) => this.routeFlv(req, res, url));
    this.ctx.routes.stream.push((req, res, url) => this.route(req, res, url, false));
    // A stream not (yet) published is waited for only when no file on disk has that path: after the static files.
    this.ctx.routes.fallback.push(async (req, res, url) => this.route(req, res, url, true));
    this.ctx.routes.upgrade.push((req, socket, head, url) => this.upgrade(req, socket, head, url));
    this.ctx.onSourceCreated((s) => this.followAudio(s));
    return {
      reload: () => {
        for (const s of this.ctx.sources.all()) {
          const c = this.fastCaches.get(s);
          if (!c) continue;
          c.seconds = this.fastCacheSeconds(s);
          if (c.seconds <= 0) c.clear();
        }
      },
      stop: () => this.wss.close(),
    };
  }

  private fastCacheSeconds(s: LiveSource): number {
    const v = this.ctx.vhost(s.vhost);
    return v && v.httpRemux.enabled ? v.httpRemux.fastCache : 0;
  }

  private followAudio(source: LiveSource): void {
    const cache = new AudioFastCache(this.fastCacheSeconds(source));
    this.fastCaches.set(source, cache);
    source.observers.add({
      onPublish: (s) => {
        cache.clear();
        cache.seconds = this.fastCacheSeconds(s);
      },
      onFrame: (_s, f) => cache.push(f),
      onUnpublish: () => cache.clear(),
    });
  }

  /** Which stream and format a path names, with the mount's template and any of our extensions. */
  private target(req: IncomingMessage, url: URL, formats: readonly RemuxFormat[]): Target | null {
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return null;
    }
    const vhost = this.ctx.vhost(requestVhost(req, url));
    if (!vhost || !vhost.httpRemux.enabled) return null;
    const base = vhost.httpRemux.mount.replace(/\.[a-z0-9]+$/i, '');
    for (const format of formats) {
      const m = matchMount(`${base}.${format}`, vhost.name, path);
      if (!m) continue;
      if (!isSafeStreamName(m.app) || !isSafeStreamName(m.stream)) return null;
      // With HLS on, `.ts` paths are also HLS segments: only a live stream is remuxed, never waited for.
      if (format === 'ts' && vhost.hls.enabled && !this.ctx.sources.get(vhost.name, m.app, m.stream)?.active) return null;
      return { vhost, app: m.app, stream: m.stream, format };
    }
    return null;
  }

  /** `.flv` at the mount: an endless HTTP-FLV response. */
  private routeFlv(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const t = this.target(req, url, ['flv']);
    if (!t || !t.vhost.httpRemux.mount.toLowerCase().endsWith('.flv')) return false;
    const cors = corsHeaders(req, this.ctx.config.httpServer.crossdomain);
    if (this.ctx.draining) return shuttingDown(res, cors);
    const id = randomId();
    const ip = clientIp(req);
    this.admitThen(req, t, id, url.search, 'http', () => {
      if (res.destroyed) return;
      new HttpFlvSession(id, req, res, this.ctx, ip, t.vhost.name, t.app, t.stream, url.search, t.vhost, cors);
    }, (denial) => {
      if (denial.redirect && redirectPlayer(req, res, cors, denial)) return;
      // Refused with no detail, as SRS refuses an HTTP-FLV player (401 when a policy asks for credentials).
      if (res.headersSent) return void res.destroy();
      const unauthorized = denial.status === 401;
      res.writeHead(denial.status, { ...cors, 'Content-Type': 'text/plain', ...(unauthorized ? { 'WWW-Authenticate': 'Bearer' } : {}) });
      res.end(unauthorized ? 'Unauthorized' : 'Forbidden');
    });
    return true;
  }

  /**
   * `.ts`/`.aac`/`.mp3` at the mount. A live stream is answered at once; a
   * player for a stream not published yet (it then waits) only from the
   * fallback, so that a `.mp3` or `.ts` file under the web root is not taken
   * for a live stream (SRS's mount only hijacks its own extension, `.flv`).
   */
  private route(req: IncomingMessage, res: ServerResponse, url: URL, waiting: boolean): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const t = this.target(req, url, ['ts', 'aac', 'mp3']);
    if (!t) return false;
    if (!waiting && !this.ctx.sources.get(t.vhost.name, t.app, t.stream)?.active) return false;
    const cors = corsHeaders(req, this.ctx.config.httpServer.crossdomain);
    if (this.ctx.draining) return shuttingDown(res, cors);
    const id = randomId();
    this.admitThen(req, t, id, url.search, 'http', () => {
      if (res.destroyed) return;
      req.socket.setNoDelay(t.vhost.tcpNodelay || t.vhost.minLatency);
      req.socket.setTimeout(0);
      res.writeHead(200, { 'Content-Type': REMUX_CONTENT_TYPES[t.format], 'Cache-Control': 'no-cache', ...cors });
      if (req.method === 'HEAD') return void res.end();
      // The status goes out now, not with the first audio/TS bytes (a player may wait for the publisher).
      res.flushHeaders();
      const source = this.ctx.sources.get(t.vhost.name, t.app, t.stream);
      const fast = source ? (this.fastCaches.get(source) ?? null) : null;
      new RemuxPlaySession(this.ctx, this.info(req, t, id, url.search, 'http'), httpTransport(req, res), fast);
    }, (denial) => {
      if (denial.redirect && redirectPlayer(req, res, cors, denial)) return;
      if (res.headersSent) return void res.destroy();
      const unauthorized = denial.status === 401;
      res.writeHead(denial.status, { ...cors, 'Content-Type': 'text/plain', ...(unauthorized ? { 'WWW-Authenticate': 'Bearer' } : {}) });
      res.end(`${unauthorized ? 'Unauthorized' : 'Forbidden'}: ${denial.reason}`.slice(0, 200));
    });
    return true;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return false;
    const t = this.target(req, url, ['flv', 'ts']);
    if (!t) return false;
    if (this.ctx.draining) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    const id = randomId();
    this.admitThen(req, t, id, url.search, 'ws', () => {
      if (socket.destroyed) return;
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        new RemuxPlaySession(this.ctx, this.info(req, t, id, url.search, 'ws'), wsTransport(ws, socket));
      });
    }, (denial) => {
      const line = denial.status === 401 ? '401 Unauthorized\r\nWWW-Authenticate: Bearer' : '403 Forbidden';
      socket.end(`HTTP/1.1 ${line}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    return true;
  }

  private info(req: IncomingMessage, t: Target, id: string, search: string, via: string) {
    return {
      id,
      ip: clientIp(req),
      vhost: t.vhost,
      app: t.app,
      stream: t.stream,
      param: search,
      // SRS synthesizes rtmp://<vhost>/<app> for HTTP stream players.
      tcUrl: `rtmp://${t.vhost.name}/${t.app}`,
      pageUrl: requestPageUrl(req),
      format: t.format,
      via,
    };
  }

  /** The admission door (on_play hooks, security) before the first byte, for every format. */
  private admitThen(req: IncomingMessage, t: Target, id: string, search: string, via: string, start: () => void, deny: (d: Denial) => void): void {
    const info = this.info(req, t, id, search, via);
    const probe: ClientSession = {
      id,
      ip: info.ip,
      createdAt: Date.now(),
      type: 'flv-play',
      vhost: t.vhost.name,
      app: t.app,
      stream: t.stream,
      param: search,
      tcUrl: info.tcUrl,
      pageUrl: info.pageUrl,
      bearer: requestBearer(req),
      bytesIn: () => 0,
      bytesOut: () => 0,
      close: () => req.socket.destroy(),
    };
    void this.ctx.admission.gate('onPlay', probe, start, deny);
  }
}

/**
 * Origin cluster: the stream is published on another origin whose HTTP port
 * is known: a 302 to the same path and query there. False when that origin
 * gave no HTTP port (an SRS coworker): the caller refuses as usual.
 */
function redirectPlayer(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>, denial: Denial): boolean {
  const to = denial.redirect;
  if (!to || to.httpPort === null || res.headersSent) return false;
  const host = to.ip.includes(':') ? `[${to.ip}]` : to.ip;
  const location = `http://${host}:${to.httpPort}${req.url ?? '/'}`;
  res.writeHead(302, { ...cors, Location: location, 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(`Redirect to ${location}`) });
  res.end(`Redirect to ${location}`);
  return true;
}

/** A graceful stop is under way: no new player (503, as SRS answers then). */
function shuttingDown(res: ServerResponse, cors: Record<string, string>): true {
  res.writeHead(503, { ...cors, 'Content-Type': 'text/plain' });
  res.end('Server is shutting down');
  return true;
}

function httpTransport(req: IncomingMessage, res: ServerResponse): RemuxTransport {
  // Over HTTP/2 req.socket is the whole connection's (every stream on it): this stream's bytes are counted here.
  const h2 = req.httpVersionMajor >= 2;
  let sent = 0;
  return {
    write: (chunks) => {
      if (res.destroyed) return false;
      if (h2) for (const c of chunks) sent += c.length;
      return writeBatch(res, chunks);
    },
    onDrain: (cb) => res.on('drain', cb),
    onClose: (cb) => res.on('close', cb),
    end: () => res.end(),
    destroy: () => res.destroy(),
    bytesIn: () => (h2 ? 0 : req.socket.bytesRead),
    bytesOut: () => (h2 ? sent : req.socket.bytesWritten),
  };
}

function wsTransport(ws: WebSocket, socket: Duplex): RemuxTransport {
  let sent = 0;
  return {
    write(chunks) {
      if (ws.readyState !== ws.OPEN) return false;
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      sent += data.length;
      ws.send(data, { binary: true });
      return ws.bufferedAmount < WS_HIGH_WATER;
    },
    onDrain: (cb) => socket.on('drain', cb),
    onClose: (cb) => ws.on('close', cb),
    end: () => ws.close(1000, 'stream ended'),
    destroy: () => ws.terminate(),
    bytesIn: () => 0,
    bytesOut: () => sent,
  };
}

export const httpLiveFeature: Feature = {
  name: 'http-live',
  install(ctx) {
    return new HttpLiveService(ctx).install();
  },
};
