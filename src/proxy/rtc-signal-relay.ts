/**
 * WHIP/WHEP through the proxy: the offer goes to the API of the origin of
 * its stream (a publish picks and pins one, a play follows the pin), and the
 * answer comes back with one ICE candidate only, the proxy's public UDP
 * port, so that media reaches the origin through RtcUdpRelay. The answer's
 * ufrag tells the relay which origin a client's checks are for. The
 * session's DELETE (its Location carries app and stream) goes the same way.
 */
import http from 'node:http';
import type { Logger } from '../log/logger.js';
import type { OriginRouter } from './origin-router.js';
import { originEndpoint, parseEndpoint } from './origin-endpoint.js';
import type { RtcUdpRelay } from './rtc-udp-relay.js';
import { streamKeyOf } from './stream-key.js';

const PATHS = new Set(['/rtc/v1/whip', '/rtc/v1/whep', '/rtc/v1/whip-play']);
/** An SDP offer or answer is a few KiB; SRS's limit is 64 KiB too. */
const MAX_SDP_BYTES = 64 * 1024;

export interface RtcSignalOptions {
  router: OriginRouter;
  relay: RtcUdpRelay;
  logger: Logger;
  /** The address players and publishers reach the relay's UDP port at. */
  candidate: { ip: string; port: () => number };
}

function fail(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
  res.end(JSON.stringify({ code: status, message }));
}

/** The answer with every candidate replaced by the proxy's. */
export function answerThroughProxy(sdp: string, ip: string, port: number): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const out: string[] = [];
  for (const line of sdp.split(eol)) {
    if (line.startsWith('a=candidate:') || line === 'a=end-of-candidates') continue;
    out.push(line);
    if (line.startsWith('a=ice-ufrag:')) out.push(`a=candidate:1 1 udp 2130706431 ${ip} ${port} typ host generation 0`);
  }
  return out.join(eol);
}

function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_SDP_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', () => resolve(null));
  });
}

export class RtcSignalRelay {
  constructor(private readonly opts: RtcSignalOptions) {}

  /** Handles a WebRTC signalling request; false when the path is not one. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean {
    const bare = url.pathname.replace(/\/+$/, '');
    if (!PATHS.has(bare)) return false;
    if (req.method === 'OPTIONS') {
      res.writeHead(200, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST, DELETE, OPTIONS', 'access-control-allow-headers': '*', 'access-control-expose-headers': 'Location' });
      res.end();
      return true;
    }
    void this.relay(req, res, url, bare).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      this.opts.logger.warn({ path: bare, err: message }, 'rtc proxy: no route');
      fail(res, 503, message);
    });
    return true;
  }

  private async relay(req: http.IncomingMessage, res: http.ServerResponse, url: URL, bare: string): Promise<void> {
    const app = url.searchParams.get('app') || 'live';
    const stream = url.searchParams.get('stream') || 'livestream';
    const key = streamKeyOf({ app, stream, param: url.search });
    const publish = bare === '/rtc/v1/whip' && (url.searchParams.get('action') ?? 'publish') === 'publish' && req.method === 'POST';
    const origin = publish ? await this.opts.router.route(key) : await this.opts.router.routeFirstPinned([key]);
    const api = originEndpoint(origin, 'api');
    const rtc = origin.rtc.map((e) => (e.startsWith('udp://') ? parseEndpoint(e, origin.ip) : null)).find((e) => e !== null);
    if (!api || !rtc) return fail(res, 502, `origin ${origin.id} lists no API or WebRTC UDP port`);
    const body = await readBody(req);
    if (body === null) return fail(res, 413, `SDP over ${MAX_SDP_BYTES} bytes`);
    const ip = this.opts.candidate.ip;
    const port = this.opts.candidate.port();
    url.searchParams.set('eip', `${ip}:${port}`);
    const headers: http.OutgoingHttpHeaders = { 'content-type': req.headers['content-type'] ?? 'application/sdp', 'content-length': body.length };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const up = http.request({ host: api.host, port: api.port, method: req.method, path: `${url.pathname}${url.search}`, headers }, (ur) => {
      const parts: Buffer[] = [];
      let size = 0;
      ur.on('data', (d: Buffer) => {
        size += d.length;
        if (size <= MAX_SDP_BYTES) parts.push(d);
      });
      ur.on('end', () => {
        let out = Buffer.concat(parts);
        const status = ur.statusCode ?? 502;
        if (status === 201) {
          const answer = answerThroughProxy(out.toString('utf8'), ip, port);
          const ufrag = /^a=ice-ufrag:(\S+)/m.exec(answer)?.[1];
          if (ufrag) this.opts.relay.expect(ufrag, rtc);
          out = Buffer.from(answer);
        }
        const h: http.OutgoingHttpHeaders = { 'content-type': ur.headers['content-type'] ?? 'application/json', 'content-length': out.length, 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Location' };
        if (ur.headers.location) h.location = ur.headers.location;
        res.writeHead(status, h);
        res.end(out);
      });
      ur.on('error', () => res.destroy());
    });
    up.on('error', (err) => fail(res, 502, `origin ${origin.id}: ${err.message}`));
    up.end(body);
  }
}
