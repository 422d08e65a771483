/**
 * The HTTP API (`http_api`, port 1985). This first cut answers the read-only
 * endpoints operators and our tests need (versions, summaries, streams,
 * clients) in SRS's envelope; the full API is its own issue.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { ServerContext } from '../server/server-context.js';
import type { LiveSource } from '../live/live-source.js';
import { randomId } from '../log/logger.js';
import { corsHeaders } from '../server/http-cors.js';
import { streamUrl } from '../protocol/stream-url.js';
import { VERSION } from '../version.js';

export interface ApiIdentity {
  serverId: string;
  serviceId: string;
  startedAt: number;
}

export function createApiServer(ctx: ServerContext, identity: ApiIdentity): http.Server {
  const streamIds = new WeakMap<LiveSource, string>();
  const idOf = (s: LiveSource): string => {
    let id = streamIds.get(s);
    if (!id) streamIds.set(s, (id = `vid-${randomId(7)}`));
    return id;
  };
  const server = http.createServer((req, res) => {
    const cors = corsHeaders(req, ctx.config.httpServer.crossdomain);
    if (req.method === 'OPTIONS') {
      res.writeHead(ctx.config.httpServer.crossdomain ? 200 : 405, { ...cors, 'Content-Length': '0' });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    for (const route of ctx.apiRoutes) if (route(req, res, url)) return;
    const envelope = { code: 0, server: identity.serverId, service: identity.serviceId, pid: String(process.pid) };
    const send = (status: number, body: object): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { ...cors, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), Connection: 'Close' });
      res.end(text);
    };
    switch (url.pathname.replace(/\/+$/, '')) {
      case '/api/v1/versions': {
        const [major, minor, revision] = VERSION.split('.').map(Number);
        return send(200, { ...envelope, data: { major, minor, revision, version: VERSION } });
      }
      case '/api/v1/summaries': {
        const mem = process.memoryUsage();
        return send(200, {
          ...envelope,
          data: {
            ok: true,
            now_ms: Date.now(),
            self: {
              version: VERSION,
              pid: process.pid,
              ppid: process.ppid,
              argv: process.argv.join(' '),
              cwd: process.cwd(),
              mem_kbyte: Math.round(mem.rss / 1024),
              srs_uptime: Math.round((Date.now() - identity.startedAt) / 1000),
            },
            system: { conn_srs: ctx.limit.current },
            sluice: { sources: ctx.sources.size, clients: ctx.clients.size, heap_used: mem.heapUsed },
          },
        });
      }
      case '/api/v1/streams': {
        const streams = [...ctx.sources.all()].map((s) => ({
          id: idOf(s),
          name: s.stream,
          vhost: s.vhost,
          app: s.app,
          url: streamUrl(s.vhost, s.app, s.stream),
          live_ms: Date.now(),
          clients: s.consumers.size + (s.publisher ? 1 : 0),
          frames: s.videoFramesIn,
          recv_bytes: s.bytesIn,
          publish: s.publisher ? { active: true, cid: s.publisher.id } : { active: false },
          video: s.videoHeader ? { codec: s.videoHeader.codec } : null,
          audio: s.audioHeader ? { codec: s.audioHeader.codec } : null,
        }));
        return send(200, { ...envelope, streams });
      }
      case '/api/v1/clients': {
        const clients = [...ctx.clients.all()].map((c) => ({
          id: c.id,
          vhost: c.vhost,
          ip: c.ip,
          tcUrl: c.tcUrl,
          pageUrl: c.pageUrl,
          url: c.stream ? streamUrl(c.vhost, c.app, c.stream) : '',
          name: c.stream,
          type: c.type,
          publish: c.type.endsWith('-publish'),
          alive: (Date.now() - c.createdAt) / 1000,
          send_bytes: c.bytesOut(),
          recv_bytes: c.bytesIn(),
        }));
        return send(200, { ...envelope, clients });
      }
      default:
        return send(404, { code: 1002 });
    }
  });
  server.on('connection', (socket: Socket) => ctx.limit.admit(socket, 'api'));
  return server;
}
