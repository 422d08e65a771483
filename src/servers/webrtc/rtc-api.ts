/**
 * WebRTC signalling on the API server (SRS-CONTRACTS §1.6):
 * - WHIP/WHEP: POST `/rtc/v1/whip/?app=&stream=` (publish), `/rtc/v1/whep/`
 *   or `/rtc/v1/whip-play/` (play) with an SDP offer → 201, the answer and a
 *   Location to DELETE the session.
 * - SRS's JSON API: POST `/rtc/v1/publish/` and `/rtc/v1/play/` with
 *   `{sdp, streamurl}` → `{code:0, sdp, sessionid, ...}`; failures answer
 *   `{"code":400}` as SRS does.
 * Slash-less paths get a 302 to the slash form.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpRoute } from '../../core/http-route.js';
import type { ServerContext } from '../../core/server-context.js';
import { corsHeaders } from '../../core/http-cors.js';
import { parseUrlRequest } from '../../protocol/stream-url.js';
import { MAX_SDP_BYTES } from '../../protocol/rtp/sdp.js';
import { RtcError } from './rtc-peer.js';
import type { RtcRequest, RtcServer } from './rtc-server.js';
import { clientIp, requestBearer, requestHost, requestPageUrl, requestVhost } from '../../core/http-request.js';
import { clip } from '../../log/clip.js';
import { IpRateLimit } from '../../core/ip-rate-limit.js';

const PATHS = ['/rtc/v1/publish', '/rtc/v1/play', '/rtc/v1/whip', '/rtc/v1/whep', '/rtc/v1/whip-play', '/rtc/v1/nack'];
const BODY_TIMEOUT_MS = 10_000;
/**
 * A body over the limit is read and dropped up to this much more, so the
 * client reads its 413 instead of a reset; beyond it the 413 goes out at once
 * and the connection closes after it.
 */
const BODY_DISCARD_BYTES = 1024 * 1024;
/**
 * Offers per client IP (issue 11 item 5; docs/DECISIONS.md): a page that
 * opens a few players at once, or a reconnecting one, stays far below a
 * burst of 20, and 10 a second after it still lets one address start 600
 * sessions a minute; a flood from one address is held to that rate. The map
 * of addresses is bounded (10,000 × ~100 bytes).
 */
const OFFER_BURST = 20;
const OFFERS_PER_SECOND = 10;
const OFFER_LIMIT_IPS = 10_000;

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): RtcError => new RtcError(`request body over ${limit} bytes`, 413);
    if (Number(req.headers['content-length']) > limit + BODY_DISCARD_BYTES) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => reject(new RtcError('request body timed out', 400)), BODY_TIMEOUT_MS);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit + BODY_DISCARD_BYTES) {
        clearTimeout(timer);
        reject(tooLarge());
      } else if (size <= limit) chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      if (size > limit) reject(tooLarge());
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** HTTP status for an RtcError code (WHIP/WHEP answer with a status; RFC 9725 asks for 4xx/5xx). */
function statusOf(code: number): number {
  switch (code) {
    case 5018:
    case 5037:
    case 2051:
    case 400:
      return 400;
    case 2014:
    case 5036:
      return 404;
    case 5020:
    case 1028:
      return 409;
    case 5021:
    case 1053:
    case 2015:
    case 3064:
      return 403;
    case 413:
      return 413;
    case 429:
      return 429;
    case 1074:
      // max_connections reached: an overload, so 5xx as SRS's; the client may try again later.
      return 503;
    default:
      return 500;
  }
}

export function rtcApiRoute(ctx: ServerContext, currentRtc: () => RtcServer, identity: () => { server: string; service: string }): HttpRoute {
  const offers = new IpRateLimit({ burst: OFFER_BURST, perSecond: OFFERS_PER_SECOND, maxIps: OFFER_LIMIT_IPS });
  return (req, res, url) => {
    const path = url.pathname;
    const bare = path.replace(/\/+$/, '');
    if (!PATHS.includes(bare)) return false;
    const rtc = currentRtc();
    // SRS closes the connection after each answer. HTTP/2 has no Connection header (node warns on it): the stream ends anyway.
    const cors: Record<string, string> = { ...corsHeaders(req, ctx.config.httpServer.crossdomain) };
    if (req.httpVersionMajor < 2) cors['Connection'] = 'Close';
    if (!path.endsWith('/')) {
      res.writeHead(302, { ...cors, Location: `${bare}/${url.search}`, 'Content-Length': '0' });
      res.end();
      return true;
    }
    const json = (status: number, body: object, extra: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      if (res.headersSent) return;
      res.writeHead(status, { ...cors, ...extra, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    /**
     * Spends one offer of the peer's budget; false (429 answered) when it is
     * spent. Keyed on the socket's address, not X-Forwarded-For, which any
     * client can write (behind a proxy all its clients share the proxy's budget).
     */
    const offerAllowed = (): boolean => {
      const peer = req.socket.remoteAddress ?? '';
      const waitMs = offers.take(peer);
      if (waitMs === 0) return true;
      log.warn({ ip, peer, code: 429 }, 'WebRTC offer refused: too many offers from this address');
      // The body is read (bounded, as for any offer) before the answer: closing on unread data resets the connection.
      const refuse = (): void => json(429, { code: 429, msg: 'too many offers from this address' }, { 'Retry-After': String(Math.ceil(waitMs / 1000)) });
      readBody(req, MAX_SDP_BYTES + 4096).then(refuse, refuse);
      return false;
    };
    const log = ctx.log.child({ api: bare });
    // Taken now: once a connection is closed its socket no longer knows the peer.
    const ip = clientIp(req);
    if (bare === '/rtc/v1/nack') {
      const username = url.searchParams.get('username') ?? '';
      const drop = url.searchParams.get('drop') ?? '';
      json(200, { code: rtc.sessions.has(username) ? 0 : 5036, query: { username, drop, help: '?username=string&drop=int' } });
      return true;
    }
    if (bare === '/rtc/v1/publish' || bare === '/rtc/v1/play') {
      if (req.method !== 'POST') {
        json(405, { code: 400 });
        return true;
      }
      if (!offerAllowed()) return true;
      void legacy(bare === '/rtc/v1/publish' ? 'publish' : 'play', req, url, rtc, identity).then(
        (body) => json(200, body),
        (err: unknown) => {
          const code = (err as RtcError).code;
          log.warn({ ip, err: clip((err as Error).message), code }, 'WebRTC API request failed');
          // SRS answers its JSON API's failures with 200 {code:400}; a body too large or a full server is an HTTP matter.
          if (code === 413) json(413, { code });
          else if (code === 1074) json(503, { code });
          else json(200, { code: 400 });
        },
      );
      return true;
    }
    // WHIP / WHEP
    const action = url.searchParams.get('action') ?? (bare === '/rtc/v1/whip' ? 'publish' : 'play');
    if (action === 'layer' && req.method === 'POST') {
      // A WHEP player's simulcast layer, switched on the fly: the session URL with action=layer&layer=<rid>.
      const r = rtc.setLayer(url.searchParams.get('session') ?? '', url.searchParams.get('token') ?? '', url.searchParams.get('layer') ?? '');
      json(r === 'ok' ? 200 : r === 'not-found' ? 404 : 403, { code: r === 'ok' ? 0 : 5036 });
      return true;
    }
    if (req.method === 'DELETE' || action === 'delete') {
      const session = url.searchParams.get('session') ?? '';
      const token = url.searchParams.get('token') ?? '';
      const r = token ? rtc.remove(session, token) : 'bad-token';
      if (r === 'bad-token') json(403, { code: 5036 });
      else {
        res.writeHead(200, { ...cors, 'Content-Length': '0' });
        res.end();
      }
      return true;
    }
    if (req.method !== 'POST') {
      json(405, { code: 400 });
      return true;
    }
    if (!offerAllowed()) return true;
    const role = bare === '/rtc/v1/whep' || bare === '/rtc/v1/whip-play' || action === 'play' ? 'play' : 'publish';
    void (async () => {
      const ufrag = url.searchParams.get('ice-ufrag');
      const pwd = url.searchParams.get('ice-pwd');
      if ((ufrag !== null && (ufrag.length < 4 || ufrag.length > 32)) || (pwd !== null && (pwd.length < 22 || pwd.length > 32))) {
        throw new RtcError('ice-ufrag must be 4..32 and ice-pwd 22..32 characters', 5037);
      }
      const offer = await readBody(req, MAX_SDP_BYTES);
      const app = url.searchParams.get('app') || 'live';
      const stream = url.searchParams.get('stream') || 'livestream';
      const vhost = requestVhost(req, url);
      const r: RtcRequest = {
        role,
        vhost,
        app,
        stream,
        param: url.search.replace(/^\?/, ''),
        tcUrl: '',
        ip,
        pageUrl: requestPageUrl(req),
        bearer: requestBearer(req),
        offer,
        eip: url.searchParams.get('eip') || url.searchParams.get('candidate'),
        apiHost: requestHost(req),
      };
      return role === 'publish' ? rtc.publish(r) : rtc.play(r);
    })().then(
      ({ session, answer }) => {
        if (res.headersSent) return;
        const location = `/rtc/v1/whip/?action=delete&token=${session.token}&app=${encodeURIComponent(session.app)}&stream=${encodeURIComponent(session.stream)}&session=${encodeURIComponent(session.username)}`;
        res.writeHead(201, { ...cors, 'Content-Type': 'application/sdp', Location: location, 'Content-Length': Buffer.byteLength(answer) });
        res.end(answer);
      },
      (err: unknown) => {
        const code = err instanceof RtcError ? err.code : 500;
        log.warn({ ip, err: clip((err as Error).message), code }, `WHIP/WHEP ${role} refused`);
        json((err instanceof RtcError ? err.status : undefined) ?? statusOf(code), { code, msg: (err as Error).message });
      },
    );
    return true;
  };
}

async function legacy(
  role: 'publish' | 'play',
  req: IncomingMessage,
  url: URL,
  rtc: RtcServer,
  identity: () => { server: string; service: string },
): Promise<object> {
  const text = await readBody(req, MAX_SDP_BYTES + 4096);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RtcError('body is not JSON', 400);
  }
  const b = body as { sdp?: unknown; streamurl?: unknown; clientip?: unknown };
  if (typeof b.sdp !== 'string' || typeof b.streamurl !== 'string') throw new RtcError('sdp and streamurl are required', 400);
  const su = parseUrlRequest(b.streamurl);
  let param = su.param;
  if (role === 'publish') param = `${param}&upstream=rtc`.replace(/^&/, '');
  const r: RtcRequest = {
    role,
    vhost: su.vhost,
    app: su.app,
    stream: su.stream,
    param,
    tcUrl: `${su.schema || 'webrtc'}://${su.host}/${su.app}`,
    ip: typeof b.clientip === 'string' && b.clientip ? b.clientip : clientIp(req),
    pageUrl: requestPageUrl(req),
    bearer: requestBearer(req),
    offer: b.sdp,
    eip: url.searchParams.get('eip') || url.searchParams.get('candidate'),
    apiHost: requestHost(req),
  };
  const { session, answer } = role === 'publish' ? await rtc.publish(r) : await rtc.play(r);
  const id = identity();
  return { code: 0, server: id.server, service: id.service, pid: String(process.pid), sdp: answer, sessionid: session.username };
}

