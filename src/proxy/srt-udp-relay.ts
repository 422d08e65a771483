/**
 * SRT through the proxy on one UDP port (SRS proxy's PROXY_SRT_SERVER). A
 * caller names its stream only in the handshake's CONCLUSION, after the
 * listener's INDUCTION answer, so the proxy is the listener up to there:
 * it answers the induction with its own SYN cookie (Sluice's SrtListener,
 * stateless), and only a conclusion carrying that cookie (the caller owns
 * its address) is routed by its streamid. The proxy then opens one socket
 * per caller address towards the origin's SRT port, does the induction with
 * the origin itself and forwards the caller's conclusion with the origin's
 * cookie put in place of its own. From then on datagrams pass both ways
 * untouched: socket ids, sequence numbers, ACKs, NAKs, key material are
 * end to end between caller and origin (the proxy holds no SRT state).
 * Bounded: relays are capped, closed when idle or on SHUTDOWN; datagrams
 * that are not a handshake from an unknown address are dropped and counted
 * (one log line per interval).
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import { clip } from '../log/clip.js';
import { bindUdp } from '../core/udp-bind.js';
import { DroppedDatagrams } from '../core/dropped-datagrams.js';
import { SrtError } from '../protocol/srt/srt-error.js';
import { ControlType, buildControlPacket } from '../protocol/srt/srt-packet.js';
import { HandshakeType, RejectReason, buildHandshake, parseHandshake, peerIpField } from '../protocol/srt/srt-handshake.js';
import { SrtListener, type ConclusionRequest } from '../protocol/srt/srt-listener.js';
import { parseSrtStreamId } from '../protocol/srt/srt-stream-id.js';
import type { OriginRouter } from './origin-router.js';
import { originEndpoint } from './origin-endpoint.js';
import { streamKeyOf } from './stream-key.js';

/** Relays (callers being routed or relayed) at once. */
const MAX_SRT_RELAYS = 10_000;
/** No datagram either way for this long closes a relay (ms); SRT sends a keepalive every second and gives up after 5 s. */
const IDLE_MS = 10_000;
/** A refused caller's relay keeps answering its conclusion retransmits this long (ms). */
const REFUSED_MS = 3000;
/** Larger than any SRT datagram (MSS 1500): a bigger one is not SRT. */
const MAX_DATAGRAM = 1500;
/** SRT header + handshake body: where the handshake's type and cookie words sit in a datagram. */
const HS_TYPE_AT = 16 + 20;
const HS_COOKIE_AT = 16 + 28;
const HS_MIN = 16 + 48;
/** SRT_REJX_UNAVAILABLE: no origin can take the stream now (libsrt prints it as 1503). */
const REJX_UNAVAILABLE = 1503;

type State = 'routing' | 'inducing' | 'open' | 'refused';

interface Relay {
  key: string;
  client: { address: string; port: number };
  state: State;
  up: dgram.Socket | null;
  /** The caller's latest conclusion, sent to the origin with the origin's cookie. */
  conclusion: Buffer;
  request: ConclusionRequest;
  originCookie: number;
  /** The rejection answered to every retransmitted conclusion of a refused caller. */
  refusal: Buffer | null;
  action: 'play' | 'publish';
  streamKey: string;
  originId: string;
  startedAt: number;
  lastAt: number;
}

export interface SrtRelayOptions {
  router: OriginRouter;
  logger: Logger;
  /** An origin must have answered the proxy's induction by then (ms). */
  connectTimeoutMs: number;
  /** A publisher's stream pin is refreshed this often (ms). */
  pinRefreshMs: number;
  maxRelays?: number;
}

function isHandshake(msg: Buffer): boolean {
  // Control bit set, control type 0 (HANDSHAKE).
  return msg.length >= HS_MIN && (msg.readUInt32BE(0) & 0xffff0000) >>> 0 === 0x80000000;
}

function isShutdown(msg: Buffer): boolean {
  return msg.length >= 16 && (msg.readUInt32BE(0) >>> 16) === (0x8000 | ControlType.SHUTDOWN);
}

function nowUs(): number {
  return performance.now() * 1000;
}

export class SrtUdpRelay {
  private readonly socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  private readonly relays = new Map<string, Relay>();
  private readonly listener = new SrtListener(randomInt(1, 0x3fffffff), nowUs);
  private readonly sweeper: NodeJS.Timeout;
  private readonly refresher: NodeJS.Timeout;
  private readonly dropped: DroppedDatagrams;
  private readonly max: number;

  constructor(private readonly opts: SrtRelayOptions) {
    this.max = opts.maxRelays ?? MAX_SRT_RELAYS;
    this.dropped = new DroppedDatagrams(opts.logger, 'srt relay: datagrams dropped');
    this.socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
    this.socket.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'srt relay: UDP socket error'));
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
    this.refresher = setInterval(() => this.refreshPins(), opts.pinRefreshMs);
    this.refresher.unref();
  }

  listen(port: number, host: string): Promise<number> {
    return bindUdp(this.socket, port, host);
  }

  /** Relayed connections by action (routing and refused callers not counted). */
  get live(): { play: number; publish: number } {
    const n = { play: 0, publish: 0 };
    for (const r of this.relays.values()) if (r.state === 'open') n[r.action]++;
    return n;
  }

  private countBad(reason: string, peer: string): void {
    this.dropped.note(reason, peer);
  }

  /** Datagrams dropped since start. */
  get badDatagrams(): number {
    return this.dropped.count;
  }

  private fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    if (msg.length > MAX_DATAGRAM) return this.countBad('datagram larger than the MSS', key);
    const hs = isHandshake(msg);
    const hsType = hs ? msg.readUInt32BE(HS_TYPE_AT) : -1;
    const r = this.relays.get(key);
    if (r && hsType === HandshakeType.INDUCTION && r.state !== 'routing' && r.state !== 'inducing') {
      // A new connection from the same address: the old one is over.
      this.drop(r, 'the caller started a new handshake');
    } else if (r) {
      r.lastAt = Date.now();
      if (hsType === HandshakeType.CONCLUSION) r.conclusion = Buffer.from(msg);
      if (r.state === 'refused') {
        if (hsType === HandshakeType.CONCLUSION && r.refusal) this.socket.send(r.refusal, r.client.port, r.client.address);
        return;
      }
      if (r.state === 'inducing' && hsType === HandshakeType.CONCLUSION) this.sendInduction(r);
      if (r.state !== 'open') return;
      if (hsType === HandshakeType.CONCLUSION) r.conclusion.writeUInt32BE(r.originCookie, HS_COOKIE_AT);
      r.up!.send(hsType === HandshakeType.CONCLUSION ? r.conclusion : msg);
      if (isShutdown(msg)) this.drop(r, 'the caller shut down');
      return;
    }
    if (!hs) return this.countBad(msg.length < 16 ? 'datagram shorter than the SRT header' : 'not a handshake, from an address with no relay', key);
    let parsed;
    try {
      parsed = parseHandshake(msg.subarray(16));
    } catch (err) {
      if (err instanceof SrtError) return this.countBad(err.message, key);
      throw err;
    }
    let res;
    try {
      res = this.listener.handle(parsed, msg.readUInt32BE(8), key, Date.now());
    } catch (err) {
      if (err instanceof SrtError) return this.countBad(err.message, key);
      throw err;
    }
    if (res.kind === 'drop') return this.countBad(res.reason, key);
    if (res.kind === 'reply') {
      this.socket.send(res.packet, rinfo.port, rinfo.address);
      return;
    }
    if (this.relays.size >= this.max) {
      this.sweep();
      if (this.relays.size >= this.max) {
        this.countBad('relay limit reached', key);
        this.socket.send(this.listener.rejection(res.request, RejectReason.RESOURCE), rinfo.port, rinfo.address);
        return;
      }
    }
    this.admit(key, rinfo, res.request, Buffer.from(msg));
  }

  private admit(key: string, rinfo: dgram.RemoteInfo, request: ConclusionRequest, conclusion: Buffer): void {
    const now = Date.now();
    const sid = parseSrtStreamId(request.streamId, 'live');
    const relay: Relay = {
      key,
      client: { address: rinfo.address, port: rinfo.port },
      state: 'routing',
      up: null,
      conclusion,
      request,
      originCookie: 0,
      refusal: null,
      action: sid?.mode ?? 'play',
      streamKey: '',
      originId: '',
      startedAt: now,
      lastAt: now,
    };
    this.relays.set(key, relay);
    const log = this.opts.logger.child({ client: key, streamid: clip(request.streamId, 200) });
    if (!sid || sid.stream === '') {
      log.warn('srt relay: streamid names no stream (or an unknown m=), refused');
      this.refuse(relay, RejectReason.BAD_REQUEST);
      return;
    }
    relay.streamKey = streamKeyOf({ app: sid.app, stream: sid.stream, param: sid.vhost ? `vhost=${sid.vhost}&${sid.param}` : sid.param });
    this.opts.router.route(relay.streamKey).then(
      (origin) => {
        if (this.relays.get(key) !== relay) return;
        const ep = originEndpoint(origin, 'srt');
        if (!ep) {
          log.warn({ origin: origin.id }, 'srt relay: the origin lists no SRT port, refused');
          this.refuse(relay, REJX_UNAVAILABLE);
          return;
        }
        relay.originId = origin.id;
        const up = dgram.createSocket('udp4');
        relay.up = up;
        up.on('message', (back) => this.fromOrigin(relay, back));
        up.on('error', (err) => this.drop(relay, `origin socket: ${err.message}`));
        up.connect(ep.port, ep.host, () => {
          if (this.relays.get(key) !== relay) return;
          relay.state = 'inducing';
          this.sendInduction(relay);
        });
        log.info({ stream: relay.streamKey, action: relay.action, origin: origin.id, to: `${ep.host}:${ep.port}` }, 'srt relay: caller routed to origin');
      },
      (err: unknown) => {
        log.warn({ stream: relay.streamKey, err: clip(err instanceof Error ? err.message : String(err), 200) }, 'srt relay: no route, refused');
        if (this.relays.get(key) === relay) this.refuse(relay, REJX_UNAVAILABLE);
      },
    );
  }

  /** The proxy's own induction to the origin, made from the caller's conclusion (its socket id, sequence, MTU). */
  private sendInduction(r: Relay): void {
    const q = r.request;
    const body = buildHandshake({
      version: 4,
      encryption: 0,
      // HSv4 callers put the socket type (2, datagram) here.
      extensionField: 2,
      initialSeq: q.initialSeq,
      mtu: q.mtu,
      flowWindow: q.flowWindow,
      type: HandshakeType.INDUCTION,
      socketId: q.callerSocketId,
      cookie: 0,
      peerIp: peerIpField(r.up?.remoteAddress().address ?? '127.0.0.1'),
      extensions: [],
    });
    r.up?.send(buildControlPacket(ControlType.HANDSHAKE, 0, q.timestamp, 0, body));
  }

  private fromOrigin(r: Relay, back: Buffer): void {
    if (this.relays.get(r.key) !== r) return;
    r.lastAt = Date.now();
    if (r.state === 'inducing') {
      if (isHandshake(back) && back.readUInt32BE(HS_TYPE_AT) === HandshakeType.INDUCTION) {
        r.originCookie = back.readUInt32BE(HS_COOKIE_AT);
        r.state = 'open';
        r.conclusion.writeUInt32BE(r.originCookie, HS_COOKIE_AT);
        r.up!.send(r.conclusion);
        return;
      }
      // Anything else at this point (a rejection) is the caller's to hear.
    }
    this.socket.send(back, r.client.port, r.client.address);
    if (isShutdown(back)) this.drop(r, 'the origin shut down');
  }

  private refuse(r: Relay, reason: number): void {
    r.state = 'refused';
    r.refusal = this.listener.rejection(r.request, reason);
    r.up?.close();
    r.up = null;
    r.lastAt = Date.now();
    this.socket.send(r.refusal, r.client.port, r.client.address);
  }

  private drop(r: Relay, why: string): void {
    if (this.relays.get(r.key) !== r) return;
    this.relays.delete(r.key);
    r.up?.close();
    r.up = null;
    if (r.state === 'open') this.opts.logger.info({ client: r.key, stream: r.streamKey, action: r.action, origin: r.originId, why }, 'srt relay: session ended');
  }

  private sweep(): void {
    const now = Date.now();
    for (const r of [...this.relays.values()]) {
      if (r.state === 'refused') {
        if (now - r.lastAt > REFUSED_MS) this.drop(r, 'refused');
      } else if (r.state !== 'open' && now - r.startedAt > this.opts.connectTimeoutMs) {
        this.opts.logger.warn({ client: r.key, stream: r.streamKey, origin: r.originId }, 'srt relay: the origin did not answer the handshake in time, refused');
        this.refuse(r, REJX_UNAVAILABLE);
      } else if (now - r.lastAt > IDLE_MS) this.drop(r, 'idle');
    }
  }

  /** A live publisher re-pins its stream (see OriginRouter.keep). */
  private refreshPins(): void {
    for (const r of this.relays.values()) {
      if (r.state !== 'open' || r.action !== 'publish') continue;
      this.opts.router.keep(r.streamKey, r.originId).catch((err: unknown) => this.opts.logger.debug({ err: String(err) }, 'srt relay: pin refresh failed'));
    }
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    clearInterval(this.refresher);
    for (const r of [...this.relays.values()]) this.drop(r, 'proxy stopping');
    return new Promise((res) => this.socket.close(() => res()));
  }
}
