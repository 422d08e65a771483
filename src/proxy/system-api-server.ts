/**
 * The proxy's system API (SRS proxy's PROXY_SYSTEM_API): origins post their
 * heartbeat to `/api/v1/srs/register` (SRS's body, as Sluice's and SRS's
 * heartbeat send it), and operators and tests read the proxy's state:
 * `/api/v1/proxy/origins` (live origins), `/api/v1/proxy/streams?key=...`
 * (a stream's pin), `/api/v1/proxy/sessions` (joined sessions). Bodies are
 * unauthenticated: bounded, JSON only.
 */
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../log/logger.js';
import { closeServer, listen } from '../core/listen.js';
import { HTTP_SERVER_LIMITS } from '../core/http-limits.js';
import type { OriginStore } from './origin-store.js';
import { originFromHeartbeat } from './heartbeat-record.js';

/** An SRS heartbeat with summaries is a few KiB. */
export const MAX_REGISTER_BODY = 16 * 1024;

export interface SystemApiOptions {
  store: OriginStore;
  logger: Logger;
  originTtlMs: number;
  sessions: () => Record<string, number>;
}

function reply(res: http.ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: status >= 400 ? 'close' : 'keep-alive' });
  res.end(JSON.stringify(body));
}

export class SystemApiServer {
  private readonly server: http.Server;

  constructor(private readonly opts: SystemApiOptions) {
    // The server's header limits; a heartbeat is small, so its whole request gets 10 s.
    this.server = http.createServer({ ...HTTP_SERVER_LIMITS, requestTimeout: 10_000 }, (req, res) => this.handle(req, res));
  }

  /** The port it listens on (the system's pick for port 0). The server's backlog, for players arriving by the thousand. */
  async listen(port: number, host: string): Promise<number> {
    await listen(this.server, { host, port });
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/api/v1/srs/register') {
      if (req.method !== 'POST') return reply(res, 405, { code: 405, message: 'POST a heartbeat' });
      return this.register(req, res);
    }
    if (req.method !== 'GET') return reply(res, 405, { code: 405, message: 'GET only' });
    const fail = (err: unknown): void => reply(res, 503, { code: 503, message: err instanceof Error ? err.message : String(err) });
    if (path === '/api/v1/proxy/origins') {
      this.opts.store.liveOrigins().then((origins) => reply(res, 200, { code: 0, origins }), fail);
      return;
    }
    if (path === '/api/v1/proxy/streams') {
      const key = url.searchParams.get('key') ?? '';
      this.opts.store.streamOrigin(key).then((origin) => reply(res, 200, { code: 0, key, origin }), fail);
      return;
    }
    if (path === '/api/v1/proxy/sessions') return reply(res, 200, { code: 0, ...this.opts.sessions() });
    reply(res, 404, { code: 404, message: 'not found' });
  }

  private register(req: http.IncomingMessage, res: http.ServerResponse): void {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_REGISTER_BODY) {
      reply(res, 413, { code: 413, message: `body over ${MAX_REGISTER_BODY} bytes` });
      req.destroy();
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (d: Buffer) => {
      if (refused) return;
      size += d.length;
      if (size > MAX_REGISTER_BODY) {
        refused = true;
        this.opts.logger.warn({ remote: req.socket.remoteAddress }, 'proxy register: body over the limit, refused');
        reply(res, 413, { code: 413, message: `body over ${MAX_REGISTER_BODY} bytes` });
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => {
      if (refused) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        this.opts.logger.warn({ remote: req.socket.remoteAddress }, 'proxy register: malformed JSON, refused');
        return reply(res, 400, { code: 400, message: 'malformed JSON' });
      }
      const origin = originFromHeartbeat(body, Date.now());
      if (!origin) return reply(res, 400, { code: 400, message: 'not a heartbeat: needs ip and device_id or server' });
      this.opts.store.putOrigin(origin, this.opts.originTtlMs).then(
        () => reply(res, 200, { code: 0 }),
        (err: unknown) => reply(res, 503, { code: 503, message: err instanceof Error ? err.message : String(err) }),
      );
    });
    req.on('error', () => req.destroy());
  }
}
