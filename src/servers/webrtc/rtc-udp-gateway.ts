/**
 * The server's public WebRTC UDP port, held in JavaScript so that a session
 * survives its client's address changing (NAT rebinding, a phone moving
 * from Wi-Fi to mobile data).
 *
 * libjuice (libdatachannel's ICE) keeps sending to the first nominated
 * address of a session and cannot be told otherwise. So it never sees the
 * client: each session gets a loopback socket of its own towards libjuice's
 * (loopback) mux port, and libjuice only ever sees that fixed address. The
 * gateway decides where the session's packets go out, as SRS does: a STUN
 * Binding request that passes the session's MESSAGE-INTEGRITY check (the
 * client proved it knows the ICE password) from a new address moves the
 * session there when it nominates (USE-CANDIDATE) or when the old address
 * has gone quiet. Media from an address that never passed that check is
 * dropped, so nobody can steal a session by spoofing its ufrag.
 *
 * STUN success responses from libjuice carry the loopback address it saw;
 * they are re-written with the client's real address (and re-signed), so
 * the client learns its true reflexive address.
 *
 * Seeing every datagram, the gateway also resends the session's last DTLS
 * handshake flight on a faster schedule than libdatachannel's 1 s, 2 s, 4 s
 * until the client answers (dtls-flight-repeater.ts), so that a handshake
 * survives lost ClientHellos within seconds.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../log/logger.js';
import { looksLikeStun, parseStun, verifyIntegrity, bindingSuccess, type StunAddress } from '../../protocol/stun/stun-message.js';
import { DtlsFlightRepeater } from '../../protocol/dtls/dtls-flight-repeater.js';

/** A verified client address is dropped after this long without a packet (ms). */
const ADDRESS_IDLE_MS = 60_000;
/** The current address counts as quiet (so another verified one may take over) after this long (ms). */
const QUIET_MS = 1_000;
/** At most this many verified addresses per session (ICE checks from every client interface). */
const MAX_ADDRESSES = 8;
/** Outstanding forwarded STUN transactions per session, to answer each from where it came. */
const MAX_PENDING = 32;
const STUN_METHOD_BINDING = 1;

interface Endpoint extends StunAddress {
  key: string;
  lastSeen: number;
}

/** A coarse clock: a packet path should not call Date.now() per datagram. */
let now = Date.now();
let clockUsers = 0;
let clockTimer: NodeJS.Timeout | null = null;
function clockStart(): void {
  if (clockUsers++ === 0) {
    clockTimer = setInterval(() => (now = Date.now()), 100);
    clockTimer.unref();
  }
}
function clockStop(): void {
  if (--clockUsers === 0 && clockTimer) {
    clearInterval(clockTimer);
    clockTimer = null;
  }
}

/** `ip:port` for logs, IPv4-mapped IPv6 shown as IPv4. */
function showAddr(e: StunAddress): string {
  return `${e.address.startsWith('::ffff:') ? e.address.slice(7) : e.address}:${e.port}`;
}

function addrKey(address: string, port: number): string {
  return `${address}|${port}`;
}

/** One session as the gateway sees it: its loopback socket and the client's addresses. */
export class GatewayPeer {
  current: Endpoint | null = null;
  readonly addresses = new Map<string, Endpoint>();
  readonly pending = new Map<string, Endpoint>();
  /** How many times the session moved to a new client address. */
  moves = 0;
  closed = false;
  /** Watches the DTLS handshake until media flows; null after (the media path then pays one check). */
  dtls: DtlsFlightRepeater | null = new DtlsFlightRepeater();
  dtlsTimer: NodeJS.Timeout | null = null;
  dtlsTimerAt = Infinity;

  constructor(
    readonly localUfrag: string,
    readonly localPwd: string,
    readonly inner: dgram.Socket,
  ) {}
}

export interface GatewayCounters {
  /** Datagrams from addresses no session knows (dropped). */
  unknown: number;
  /** STUN requests whose ufrag or MESSAGE-INTEGRITY did not match (dropped). */
  unverified: number;
  /** Session moves to a new client address. */
  moves: number;
  /** DTLS handshake flights the gateway resent ahead of libdatachannel's timer. */
  dtlsResends: number;
}

export class RtcUdpGateway {
  private front: dgram.Socket | null = null;
  private readonly byAddr = new Map<string, GatewayPeer>();
  private readonly byUfrag = new Map<string, GatewayPeer>();
  /** The loopback ports of the session sockets: the only peers libjuice may have. */
  private readonly innerPorts = new Set<number>();
  private sweepTimer: NodeJS.Timeout | null = null;
  readonly counters: GatewayCounters = { unknown: 0, unverified: 0, moves: 0, dtlsResends: 0 };
  /** libjuice's loopback port, where every session's socket sends. */
  private juicePort = 0;

  constructor(private readonly log: Logger) {}

  /** Binds the public port (dual-stack where the host has IPv6). */
  async listen(port: number, juicePort: number): Promise<void> {
    this.juicePort = juicePort;
    // An IP literal needs no DNS: a synchronous lookup spares a tick per datagram sent.
    const lookup = (address: string, _o: unknown, cb: (err: Error | null, address: string, family: number) => void): void => cb(null, address, address.includes(':') ? 6 : 4);
    const bind = (type: 'udp4' | 'udp6'): Promise<dgram.Socket> =>
      new Promise((resolve, reject) => {
        const s = dgram.createSocket({ type, ipv6Only: false, lookup: lookup as never });
        s.once('error', (err) => {
          s.close();
          reject(err);
        });
        // exclusive: a cluster worker must not share the port through the primary, which would hand
        // each datagram to any worker, not to the one holding the session.
        s.bind({ port, address: type === 'udp6' ? '::' : '0.0.0.0', exclusive: true }, () => {
          s.removeAllListeners('error');
          resolve(s);
        });
      });
    try {
      this.front = await bind('udp6');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw err;
      this.front = await bind('udp4');
    }
    this.front.on('message', (msg, rinfo) => this.onFront(msg, rinfo.address, rinfo.port));
    this.front.on('error', (err) => this.log.error({ err: err.message }, 'WebRTC UDP port error'));
    clockStart();
    this.sweepTimer = setInterval(() => this.sweep(), 10_000);
    this.sweepTimer.unref();
  }

  get port(): number {
    return this.front ? (this.front.address() as AddressInfo).port : 0;
  }

  /** Whether a loopback port is one of this gateway's session sockets. */
  ownsLoopbackPort(port: number): boolean {
    return this.innerPorts.has(port);
  }

  get sessions(): number {
    return this.byUfrag.size;
  }

  /** A new session: its packets reach libjuice from a loopback socket of its own. */
  async register(localUfrag: string, localPwd: string): Promise<GatewayPeer> {
    const inner = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      inner.once('error', reject);
      inner.bind(0, '127.0.0.1', () => {
        inner.off('error', reject);
        resolve();
      });
    });
    inner.connect(this.juicePort, '127.0.0.1');
    await new Promise<void>((resolve) => inner.once('connect', resolve));
    const peer = new GatewayPeer(localUfrag, localPwd, inner);
    this.innerPorts.add(inner.address().port);
    inner.on('message', (msg) => this.onInner(peer, msg));
    inner.on('error', (err) => this.log.warn({ ufrag: localUfrag, err: err.message }, 'WebRTC session socket error'));
    this.byUfrag.set(localUfrag, peer);
    return peer;
  }

  unregister(peer: GatewayPeer): void {
    if (peer.closed) return;
    peer.closed = true;
    this.endDtls(peer);
    if (this.byUfrag.get(peer.localUfrag) === peer) this.byUfrag.delete(peer.localUfrag);
    for (const k of peer.addresses.keys()) if (this.byAddr.get(k) === peer) this.byAddr.delete(k);
    peer.addresses.clear();
    peer.pending.clear();
    this.innerPorts.delete(peer.inner.address().port);
    peer.inner.close();
  }

  close(): void {
    for (const p of [...this.byUfrag.values()]) this.unregister(p);
    this.byAddr.clear();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    if (this.front) {
      this.front.close();
      this.front = null;
      clockStop();
    }
  }

  /** A datagram from a client. The hot path (media from a known address) returns at the first `if`. */
  private onFront(msg: Buffer, address: string, port: number): void {
    const key = addrKey(address, port);
    const peer = this.byAddr.get(key);
    if (peer !== undefined && !looksLikeStun(msg)) {
      const ep = peer.addresses.get(key)!;
      ep.lastSeen = now;
      if (ep !== peer.current) this.maybeMove(peer, ep, false);
      if (peer.dtls !== null) this.watchDtls(peer, msg, false);
      peer.inner.send(msg);
      return;
    }
    if (!looksLikeStun(msg)) {
      this.counters.unknown++;
      return;
    }
    const stun = parseStun(msg);
    if (!stun) {
      this.counters.unknown++;
      return;
    }
    if (stun.cls !== 'request') {
      // Responses to libjuice's consent checks and indications: only from a verified address.
      if (peer === undefined) {
        this.counters.unknown++;
        return;
      }
      const ep = peer.addresses.get(key)!;
      ep.lastSeen = now;
      if (ep !== peer.current) this.maybeMove(peer, ep, false);
      peer.inner.send(msg);
      return;
    }
    const ufrag = stun.username?.split(':', 1)[0] ?? '';
    const owner = this.byUfrag.get(ufrag);
    if (stun.method !== STUN_METHOD_BINDING || !owner || !verifyIntegrity(msg, stun, owner.localPwd)) {
      this.counters.unverified++;
      this.log.debug({ ip: address, port, ufrag }, 'WebRTC: STUN request for no session or with a bad MESSAGE-INTEGRITY');
      return;
    }
    const ep = this.remember(owner, key, address, port);
    if (owner.pending.size >= MAX_PENDING) owner.pending.delete(owner.pending.keys().next().value!);
    owner.pending.set(stun.transactionId, ep);
    this.maybeMove(owner, ep, stun.useCandidate);
    owner.inner.send(msg);
  }

  private remember(peer: GatewayPeer, key: string, address: string, port: number): Endpoint {
    let ep = peer.addresses.get(key);
    if (!ep) {
      if (peer.addresses.size >= MAX_ADDRESSES) this.forgetOldest(peer);
      const other = this.byAddr.get(key);
      // One address, one session: a client that reuses its socket for a new session leaves the old one.
      if (other && other !== peer) {
        other.addresses.delete(key);
        if (other.current?.key === key) other.current = null;
      }
      ep = { key, address, port, lastSeen: now };
      peer.addresses.set(key, ep);
      this.byAddr.set(key, peer);
    }
    ep.lastSeen = now;
    return ep;
  }

  private forgetOldest(peer: GatewayPeer): void {
    let oldest: Endpoint | null = null;
    for (const e of peer.addresses.values()) if (e !== peer.current && (!oldest || e.lastSeen < oldest.lastSeen)) oldest = e;
    if (!oldest) return;
    peer.addresses.delete(oldest.key);
    if (this.byAddr.get(oldest.key) === peer) this.byAddr.delete(oldest.key);
  }

  /** SRS's rule, made safe for clients that check several paths: move on nomination, or when the current path is quiet. */
  private maybeMove(peer: GatewayPeer, ep: Endpoint, nominated: boolean): void {
    const cur = peer.current;
    if (cur === ep) return;
    if (cur === null) {
      peer.current = ep;
      return;
    }
    if (!nominated && now - cur.lastSeen < QUIET_MS) return;
    peer.current = ep;
    peer.moves++;
    this.counters.moves++;
    this.log.info({ ufrag: peer.localUfrag, from: showAddr(cur), to: showAddr(ep), nominated }, 'WebRTC client address changed: session follows');
  }

  /** A datagram from libjuice for this session's client. */
  private onInner(peer: GatewayPeer, msg: Buffer): void {
    if (peer.closed || this.front === null) return;
    let to = peer.current;
    if (msg.length >= 20 && msg[0]! <= 3 && looksLikeStun(msg)) {
      const stun = parseStun(msg);
      const asked = stun ? peer.pending.get(stun.transactionId) : undefined;
      if (stun && asked) {
        peer.pending.delete(stun.transactionId);
        to = asked;
        if (stun.cls === 'success') msg = bindingSuccess(stun.transactionId, asked, peer.localPwd);
      }
    } else if (peer.dtls !== null) this.watchDtls(peer, msg, true);
    if (to !== null) this.front.send(msg, to.port, to.address);
  }

  /** Feeds the session's handshake watcher and keeps its resend timer at the watcher's next due time. */
  private watchDtls(peer: GatewayPeer, msg: Buffer, outgoing: boolean): void {
    const r = peer.dtls!;
    if (outgoing) r.sent(msg, Date.now());
    else r.received(msg, Date.now());
    this.armDtls(peer);
  }

  private armDtls(peer: GatewayPeer): void {
    const r = peer.dtls;
    if (r === null || r.done || peer.closed) return this.endDtls(peer);
    const at = r.nextAt;
    if (at === peer.dtlsTimerAt) return;
    if (peer.dtlsTimer) clearTimeout(peer.dtlsTimer);
    peer.dtlsTimer = null;
    peer.dtlsTimerAt = at;
    if (at === Infinity) return;
    peer.dtlsTimer = setTimeout(() => {
      peer.dtlsTimer = null;
      peer.dtlsTimerAt = Infinity;
      const to = peer.current;
      if (peer.closed || this.front === null || peer.dtls === null) return;
      const flight = peer.dtls.poll(Date.now());
      if (flight.length && to !== null) {
        this.counters.dtlsResends++;
        for (const d of flight) this.front.send(d, to.port, to.address);
      }
      this.armDtls(peer);
    }, Math.max(0, at - Date.now()));
    peer.dtlsTimer.unref();
  }

  private endDtls(peer: GatewayPeer): void {
    peer.dtls = null;
    if (peer.dtlsTimer) clearTimeout(peer.dtlsTimer);
    peer.dtlsTimer = null;
    peer.dtlsTimerAt = Infinity;
  }

  /** Drops addresses not heard from for a minute (a client's old networks). */
  private sweep(): void {
    for (const peer of this.byUfrag.values()) {
      for (const ep of [...peer.addresses.values()]) {
        if (ep !== peer.current && now - ep.lastSeen > ADDRESS_IDLE_MS) {
          peer.addresses.delete(ep.key);
          if (this.byAddr.get(ep.key) === peer) this.byAddr.delete(ep.key);
        }
      }
    }
  }
}
