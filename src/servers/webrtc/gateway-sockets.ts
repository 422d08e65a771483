/**
 * The gateway's sockets: the public WebRTC port and one loopback socket per
 * session towards libjuice. Two kinds: Node's dgram (every datagram reaches
 * JavaScript) and the native relay (native-gateway-sockets.ts), which moves
 * media between a session socket and its client's current address itself and
 * hands JavaScript only the rest. The gateway's decisions are the same on both.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

/** A datagram from a client on the public port. */
export type FrontHandler = (msg: Buffer, address: string, port: number) => void;

/** One session's loopback address towards libjuice (libjuice tells sessions apart by it). */
export interface SessionSocket {
  readonly localAddress: string;
  readonly localPort: number;
  /** To libjuice. */
  send(msg: Buffer): void;
  /** Where the session's media goes (null: nowhere yet); the native relay's fast path follows it. */
  setCurrent(address: string | null, port: number): void;
  /** The DTLS handshake is over: from now on media may bypass JavaScript (the native relay's fast path). */
  fastPath(): void;
  /** ms since media last came from the current address without passing through JavaScript; -1 when JavaScript saw all of it. */
  seenAgo(): number;
  close(): void;
}

export interface GatewaySockets {
  /** Which relay moves the datagrams (for the start log and the API). */
  readonly kind: 'native' | 'dgram';
  /** Binds the public port (dual-stack where the host has IPv6 and no address is given). */
  listen(port: number, address: string | undefined, shared: boolean, onFront: FrontHandler, juicePort: number): Promise<void>;
  readonly port: number;
  /** A session's way to libjuice's loopback port; `onInner` gets what libjuice sends that JavaScript must see. */
  open(onInner: (msg: Buffer) => void, onError: (err: Error) => void): Promise<SessionSocket>;
  sendFront(msg: Buffer, port: number, address: string): void;
  close(): void;
}

type Lookup = (address: string, _o: unknown, cb: (err: Error | null, address: string, family: number) => void) => void;
// An IP literal needs no DNS: a synchronous lookup spares a tick per datagram sent.
const literal: Lookup = (address, _o, cb) => cb(null, address, address.includes(':') ? 6 : 4);

/** Node's dgram: every datagram both ways passes through JavaScript. */
export class DgramGatewaySockets implements GatewaySockets {
  readonly kind = 'dgram';
  private front: dgram.Socket | null = null;
  private juicePort = 0;

  constructor(private readonly onFrontError: (err: Error) => void) {}

  async listen(port: number, address: string | undefined, shared: boolean, onFront: FrontHandler, juicePort: number): Promise<void> {
    this.juicePort = juicePort;
    const bind = (type: 'udp4' | 'udp6'): Promise<dgram.Socket> =>
      new Promise((resolve, reject) => {
        const s = dgram.createSocket({ type, ipv6Only: false, lookup: literal as never });
        s.once('error', (err) => {
          s.close();
          reject(err);
        });
        // Alone, exclusive. Shared (--workers), node:cluster gives every worker the primary's one socket:
        // any worker may read a datagram, and the mesh passes it to the session's owner.
        s.bind({ port, address: address ?? (type === 'udp6' ? '::' : '0.0.0.0'), exclusive: !shared }, () => {
          s.removeAllListeners('error');
          resolve(s);
        });
      });
    if (address !== undefined) this.front = await bind(address.includes(':') ? 'udp6' : 'udp4');
    else {
      try {
        this.front = await bind('udp6');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw err;
        this.front = await bind('udp4');
      }
    }
    this.front.on('message', (msg, rinfo) => onFront(msg, rinfo.address, rinfo.port));
    this.front.on('error', this.onFrontError);
  }

  get port(): number {
    return this.front ? (this.front.address() as AddressInfo).port : 0;
  }

  async open(onInner: (msg: Buffer) => void, onError: (err: Error) => void): Promise<SessionSocket> {
    const inner = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      inner.once('error', reject);
      // exclusive: under --workers a port-0 bind would otherwise be one socket shared by every worker (node:cluster).
      inner.bind({ port: 0, address: '127.0.0.1', exclusive: true }, () => {
        inner.off('error', reject);
        resolve();
      });
    });
    inner.connect(this.juicePort, '127.0.0.1');
    await new Promise<void>((resolve) => inner.once('connect', resolve));
    inner.on('message', onInner);
    inner.on('error', onError);
    const localPort = inner.address().port;
    return {
      localAddress: '127.0.0.1',
      localPort,
      send: (msg) => inner.send(msg),
      setCurrent: () => {},
      fastPath: () => {},
      seenAgo: () => -1,
      close: () => inner.close(),
    };
  }

  sendFront(msg: Buffer, port: number, address: string): void {
    this.front?.send(msg, port, address);
  }

  close(): void {
    this.front?.close();
    this.front = null;
  }
}
