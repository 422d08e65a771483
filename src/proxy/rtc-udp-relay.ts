/**
 * WebRTC media through the proxy on one public UDP port: the first packet
 * of a client is its ICE binding request, whose USERNAME begins with the
 * server's ufrag; the WHIP/WHEP relay (rtc-signal-relay.ts) told us which
 * origin answered with that ufrag. From then on the client's address is
 * bound to one socket towards that origin, and datagrams (STUN, DTLS, SRTP)
 * go both ways untouched. Bounded: ufrags and bindings are capped and
 * expire when idle; datagrams from unknown addresses that are not a known
 * ufrag's binding request are dropped.
 */
import dgram from 'node:dgram';
import type { Logger } from '../log/logger.js';
import { bindUdp } from '../core/udp-bind.js';
import { parseStun } from '../protocol/stun/stun-message.js';
import type { HostPort } from './origin-endpoint.js';

const MAX_UFRAGS = 10_000;
const MAX_BINDINGS = 10_000;
/** A WHIP/WHEP answer whose client never sends a check is forgotten after this (ms). */
const UFRAG_TTL_MS = 60_000;
/** A binding with no datagram either way for this long is closed (ms); ICE consent checks come every few seconds. */
const IDLE_MS = 30_000;

interface Binding {
  up: dgram.Socket;
  lastAt: number;
  /** The socket to the origin is connected: datagrams before that are dropped (ICE retransmits). */
  ready: boolean;
}

export class RtcUdpRelay {
  private readonly socket = dgram.createSocket('udp4');
  private readonly ufrags = new Map<string, { origin: HostPort; expiresAt: number }>();
  private readonly bindings = new Map<string, Binding>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly logger: Logger) {
    this.socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
    this.socket.on('error', (err) => this.logger.warn({ err: err.message }, 'rtc relay: UDP socket error'));
    this.sweeper = setInterval(() => this.sweep(), 5000);
    this.sweeper.unref();
  }

  listen(port: number, host: string): Promise<number> {
    return bindUdp(this.socket, port, host);
  }

  get sessions(): number {
    return this.bindings.size;
  }

  /** An origin answered an offer with this ufrag: its client's checks will name it. */
  expect(ufrag: string, origin: HostPort): void {
    if (this.ufrags.size >= MAX_UFRAGS) this.sweep();
    if (this.ufrags.size < MAX_UFRAGS) this.ufrags.set(ufrag, { origin, expiresAt: Date.now() + UFRAG_TTL_MS });
  }

  private fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    const b = this.bindings.get(key);
    if (b) {
      b.lastAt = Date.now();
      if (b.ready) b.up.send(msg);
      return;
    }
    const stun = parseStun(msg);
    if (!stun || stun.cls !== 'request' || stun.username === null) return;
    const ufrag = stun.username.split(':')[0]!;
    const target = this.ufrags.get(ufrag);
    if (!target || this.bindings.size >= MAX_BINDINGS) return;
    const up = dgram.createSocket('udp4');
    const binding: Binding = { up, lastAt: Date.now(), ready: false };
    this.bindings.set(key, binding);
    up.on('message', (back) => {
      binding.lastAt = Date.now();
      this.socket.send(back, rinfo.port, rinfo.address);
    });
    up.on('error', () => this.drop(key));
    up.connect(target.origin.port, target.origin.host, () => {
      binding.ready = true;
      up.send(msg);
    });
    this.logger.info({ client: key, origin: `${target.origin.host}:${target.origin.port}`, ufrag }, 'rtc relay: client bound to origin');
  }

  private drop(key: string): void {
    const b = this.bindings.get(key);
    if (!b) return;
    this.bindings.delete(key);
    b.up.close();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [u, e] of this.ufrags) if (e.expiresAt <= now) this.ufrags.delete(u);
    for (const [k, b] of this.bindings) if (now - b.lastAt > IDLE_MS) this.drop(k);
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const k of [...this.bindings.keys()]) this.drop(k);
    return new Promise((r) => this.socket.close(() => r()));
  }
}
