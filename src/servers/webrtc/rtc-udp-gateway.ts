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
 *
 * The media itself need not pass through JavaScript: where the native relay
 * is built (native-gateway-sockets.ts) it moves RTP/RTCP between a session and
 * its current client address on a thread of its own, and this class sees only
 * STUN, DTLS and datagrams from addresses that are not current. With
 * --workers each worker's relay binds the port with SO_REUSEPORT (with dgram,
 * node:cluster shares the primary's socket); either way the mesh passes a
 * datagram that lands in the wrong worker to the session's owner.
 */
import type { Logger } from '../../log/logger.js';
import { looksLikeStun, parseStun, verifyIntegrity, bindingSuccess, type StunAddress } from '../../protocol/stun/stun-message.js';
import { DtlsFlightRepeater } from '../../protocol/dtls/dtls-flight-repeater.js';
import { RtcWorkerMesh } from './rtc-worker-mesh.js';
import { DgramGatewaySockets, type GatewaySockets, type SessionSocket } from './gateway-sockets.js';
import { NativeGatewaySockets, nativeRelay, type NativeRelayStats } from './native-gateway-sockets.js';

/** A verified client address is dropped after this long without a packet (ms). */
const ADDRESS_IDLE_MS = 60_000;
/** The current address counts as quiet (so another verified one may take over) after this long (ms). */
const QUIET_MS = 1_000;
/** At most this many verified addresses per session (ICE checks from every client interface). */
const MAX_ADDRESSES = 8;
/** Outstanding forwarded STUN transactions per session, to answer each from where it came. */
const MAX_PENDING = 32;
const STUN_METHOD_BINDING = 1;
/** Datagrams held (shared port) while no sibling is known to own them yet: the announcement may lag the client. */
const MAX_HELD = 64;
const HOLD_MS = 1_000;

interface Held {
  msg: Buffer;
  address: string;
  port: number;
  at: number;
}

export interface GatewayOptions {
  /** `follow_client_address`: off keeps a session on its first nominated address (as libjuice does). */
  follow: boolean;
  /** Share the port with the other --workers processes (node:cluster) and route between them. */
  shared: boolean;
  /** Bind address (default: the wildcard, dual-stack where the host has IPv6). */
  address?: string;
  /** Use the native relay where it is built (default true; false: dgram). */
  native?: boolean;
}

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
    readonly inner: SessionSocket,
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
  private front: GatewaySockets | null = null;
  private readonly byAddr = new Map<string, GatewayPeer>();
  private readonly byUfrag = new Map<string, GatewayPeer>();
  /** The sessions' loopback addresses (`ip|port`): the only peers libjuice may have. */
  private readonly innerAddrs = new Set<string>();
  private sweepTimer: NodeJS.Timeout | null = null;
  readonly counters: GatewayCounters = { unknown: 0, unverified: 0, moves: 0, dtlsResends: 0 };
  /** With --workers: the other workers' sessions, and the way to them. */
  private mesh: RtcWorkerMesh | null = null;
  private held: Held[] = [];
  private retryingAt: number | null = null;

  constructor(
    private readonly log: Logger,
    private readonly opts: GatewayOptions = { follow: true, shared: false },
  ) {}

  /** Datagrams passed to and received from sibling workers (0 without --workers). */
  get relayed(): { out: number; in: number } {
    return { out: this.mesh?.relayedOut ?? 0, in: this.mesh?.relayedIn ?? 0 };
  }

  /** Binds the public port (dual-stack where the host has IPv6). */
  async listen(port: number, juicePort: number): Promise<void> {
    const shared = this.opts.shared;
    const native = this.opts.native === false ? null : nativeRelay();
    const sockets: GatewaySockets =
      native !== null && 'binding' in native ? new NativeGatewaySockets(native.binding) : new DgramGatewaySockets((err) => this.log.error({ err: err.message }, 'WebRTC UDP port error'));
    await sockets.listen(port, this.opts.address, shared, (msg, address, p) => this.onFront(msg, address, p, false), juicePort);
    this.front = sockets;
    if (native !== null) {
      if ('error' in native) this.log.info({ reason: native.error }, 'WebRTC UDP relay: JavaScript (the native relay is not used)');
      else this.log.debug({ direct: sockets instanceof NativeGatewaySockets && sockets.direct }, 'WebRTC UDP relay: native thread');
    }
    if (shared) {
      this.mesh = new RtcWorkerMesh(
        this.log,
        { ufrags: () => this.byUfrag.keys(), addresses: () => this.byAddr.keys() },
        (msg, address, port) => this.onFront(msg, address, port, true),
        () => this.retryHeld(),
      );
      await this.mesh.start();
    }
    clockStart();
    this.sweepTimer = setInterval(() => this.sweep(), 10_000);
    this.sweepTimer.unref();
  }

  get port(): number {
    return this.front?.port ?? 0;
  }

  /** Which relay moves the media: the native thread or dgram in JavaScript. */
  get relayKind(): 'native' | 'dgram' | null {
    return this.front?.kind ?? null;
  }

  /** The native relay's datagram counts (null with dgram). */
  get nativeStats(): NativeRelayStats | null {
    return this.front instanceof NativeGatewaySockets ? this.front.stats : null;
  }

  /** Whether a loopback address is one of this gateway's sessions'. */
  ownsLoopback(address: string, port: number): boolean {
    return this.innerAddrs.has(addrKey(address, port));
  }

  get sessions(): number {
    return this.byUfrag.size;
  }

  /** A new session: its packets reach libjuice from a loopback socket of its own. */
  async register(localUfrag: string, localPwd: string): Promise<GatewayPeer> {
    if (this.front === null) throw new Error('WebRTC UDP port is closed');
    let peer: GatewayPeer | null = null;
    const inner = await this.front.open(
      (msg) => {
        if (peer !== null) this.onInner(peer, msg);
      },
      (err) => this.log.warn({ ufrag: localUfrag, err: err.message }, 'WebRTC session socket error'),
    );
    peer = new GatewayPeer(localUfrag, localPwd, inner);
    this.innerAddrs.add(addrKey(inner.localAddress, inner.localPort));
    this.byUfrag.set(localUfrag, peer);
    this.mesh?.announce('u', localUfrag, true);
    return peer;
  }

  unregister(peer: GatewayPeer): void {
    if (peer.closed) return;
    peer.closed = true;
    this.endDtls(peer);
    if (this.byUfrag.get(peer.localUfrag) === peer) {
      this.byUfrag.delete(peer.localUfrag);
      this.mesh?.announce('u', peer.localUfrag, false);
    }
    for (const k of peer.addresses.keys()) if (this.byAddr.get(k) === peer) this.forgetAddress(k);
    peer.addresses.clear();
    peer.pending.clear();
    this.innerAddrs.delete(addrKey(peer.inner.localAddress, peer.inner.localPort));
    peer.inner.close();
  }

  close(): void {
    for (const p of [...this.byUfrag.values()]) this.unregister(p);
    this.byAddr.clear();
    this.held = [];
    this.mesh?.close();
    this.mesh = null;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    if (this.front) {
      this.front.close();
      this.front = null;
      clockStop();
    }
  }

  /**
   * A datagram from a client (`relayed`: a sibling worker read it from the shared port).
   * The hot path (media from a known address) returns at the first `if`.
   */
  private onFront(msg: Buffer, address: string, port: number, relayed: boolean): void {
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
      if (peer === undefined && this.mesh !== null && !relayed && this.toSibling(key, null, msg, address, port)) return;
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
        if (this.mesh !== null && !relayed && this.toSibling(key, null, msg, address, port)) return;
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
    // A sibling's session: it checks the MESSAGE-INTEGRITY (it has the password).
    if (owner === undefined && this.mesh !== null && !relayed && this.toSibling(null, ufrag, msg, address, port)) return;
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
        if (other.current?.key === key) this.setCurrent(other, null);
      }
      ep = { key, address, port, lastSeen: now };
      peer.addresses.set(key, ep);
      this.byAddr.set(key, peer);
      this.mesh?.announce('a', key, true);
    }
    ep.lastSeen = now;
    return ep;
  }

  private forgetOldest(peer: GatewayPeer): void {
    let oldest: Endpoint | null = null;
    for (const e of peer.addresses.values()) if (e !== peer.current && (!oldest || e.lastSeen < oldest.lastSeen)) oldest = e;
    if (!oldest) return;
    peer.addresses.delete(oldest.key);
    if (this.byAddr.get(oldest.key) === peer) this.forgetAddress(oldest.key);
  }

  /** SRS's rule, made safe for clients that check several paths: move on nomination, or when the current path is quiet. */
  private maybeMove(peer: GatewayPeer, ep: Endpoint, nominated: boolean): void {
    const cur = peer.current;
    if (cur === ep) return;
    if (cur === null) {
      this.setCurrent(peer, ep);
      return;
    }
    // follow_client_address off (only here with --workers): the first address stays, as libjuice would keep it.
    if (!this.opts.follow) return;
    if (!nominated && now - this.lastSeen(peer, cur) < QUIET_MS) return;
    this.setCurrent(peer, ep);
    peer.moves++;
    this.counters.moves++;
    this.log.info({ ufrag: peer.localUfrag, from: showAddr(cur), to: showAddr(ep), nominated }, 'WebRTC client address changed: session follows');
  }

  private setCurrent(peer: GatewayPeer, ep: Endpoint | null): void {
    peer.current = ep;
    peer.inner.setCurrent(ep?.address ?? null, ep?.port ?? 0);
  }

  /** When the current address was last heard from; the native relay stamps the media it moved itself. */
  private lastSeen(peer: GatewayPeer, cur: Endpoint): number {
    const ago = peer.inner.seenAgo();
    return ago < 0 ? cur.lastSeen : Math.max(cur.lastSeen, Date.now() - ago);
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
    if (to !== null) this.front.sendFront(msg, to.port, to.address);
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
        for (const d of flight) this.front.sendFront(d, to.port, to.address);
      }
      this.armDtls(peer);
    }, Math.max(0, at - Date.now()));
    peer.dtlsTimer.unref();
  }

  private endDtls(peer: GatewayPeer): void {
    peer.dtls = null;
    if (!peer.closed) peer.inner.fastPath();
    if (peer.dtlsTimer) clearTimeout(peer.dtlsTimer);
    peer.dtlsTimer = null;
    peer.dtlsTimerAt = Infinity;
  }

  private forgetAddress(key: string): void {
    this.byAddr.delete(key);
    this.mesh?.announce('a', key, false);
  }

  /**
   * With --workers: passes a datagram this worker does not own to the sibling that does, or
   * holds it a moment when none is known yet (the owner's announcement may come after the client's
   * datagram, as a client answers at once). False: not for a sibling either, and not held.
   */
  private toSibling(key: string | null, ufrag: string | null, msg: Buffer, address: string, port: number): boolean {
    const mesh = this.mesh!;
    if (key !== null ? mesh.relayByAddress(key, msg, address, port) : mesh.relayByUfrag(ufrag!, msg, address, port)) return true;
    const t = Date.now();
    // A datagram tried again keeps its first time: held once, for HOLD_MS at most.
    const at = this.retryingAt ?? t;
    if (t - at > HOLD_MS) return false;
    while (this.held.length > 0 && (this.held.length >= MAX_HELD || t - this.held[0]!.at > HOLD_MS)) this.held.shift();
    this.held.push({ msg: this.retryingAt === null ? Buffer.from(msg) : msg, address, port, at });
    return true;
  }

  /** A sibling announced something: held datagrams go where they now can (once more through onFront). */
  private retryHeld(): void {
    if (this.held.length === 0) return;
    const t = Date.now();
    const held = this.held;
    this.held = [];
    for (const h of held) {
      if (t - h.at > HOLD_MS) continue;
      this.retryingAt = h.at;
      this.onFront(h.msg, h.address, h.port, false);
    }
    this.retryingAt = null;
  }

  /** Drops addresses not heard from for a minute (a client's old networks). */
  private sweep(): void {
    for (const peer of this.byUfrag.values()) {
      for (const ep of [...peer.addresses.values()]) {
        if (ep !== peer.current && now - ep.lastSeen > ADDRESS_IDLE_MS) {
          peer.addresses.delete(ep.key);
          if (this.byAddr.get(ep.key) === peer) this.forgetAddress(ep.key);
        }
      }
    }
  }
}
