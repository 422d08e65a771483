/**
 * The gateway's sockets held by the native relay (native/udp-relay, built by
 * `npm install` with node-gyp; see docs/DECISIONS.md "WHEP fan-out: the native
 * relay"). A thread of its own moves RTP/RTCP between each session's loopback
 * address (one socket for all, 127.1.0.0 and up) and the client address the gateway made current, with recvmmsg and
 * sendmmsg; everything else (STUN, DTLS, media from an address that is not
 * current) comes to JavaScript as it would from dgram.
 */
import { join } from 'node:path';
import { type NativeAddon, loadNativeAddon } from '../../core/native-addon.js';
import type { FrontHandler, GatewaySockets, SessionSocket } from './gateway-sockets.js';

declare const relayBrand: unique symbol;
type RelayHandle = { readonly [relayBrand]: true };

/** What the native relay counts (datagrams). */
export interface NativeRelayStats {
  /** Client → libjuice without JavaScript. */
  mediaIn: number;
  /** libjuice → client without JavaScript, through the loopback hop. */
  mediaOut: number;
  /** libjuice → client sent straight from the public socket by the replaced sendto (no hop). */
  directOut: number;
  /** Handed to JavaScript. */
  toJs: number;
  /** Lost to a full queue towards JavaScript or a failed send. */
  dropped: number;
  truncated: number;
  sendErrors: number;
  /** Datagrams on the loopback socket from anyone but libjuice (dropped). */
  strangers: number;
}

interface RelayBinding {
  create(onDatagram: (id: number, msg: Buffer, address: string | undefined, port: number | undefined) => void): RelayHandle;
  bind(h: RelayHandle, address: string, port: number, v6: boolean, juicePort: number, reusePort: boolean): number;
  open(h: RelayHandle): [number, string, number];
  close(h: RelayHandle, id: number): void;
  current(h: RelayHandle, id: number, address: string | null, port: number): void;
  fast(h: RelayHandle, id: number, on: boolean): void;
  seenAgo(h: RelayHandle, id: number): number;
  sendFront(h: RelayHandle, msg: Buffer, address: string, port: number): void;
  sendInner(h: RelayHandle, id: number, msg: Buffer): void;
  direct(h: RelayHandle): boolean;
  stats(h: RelayHandle): NativeRelayStats;
  shutdown(h: RelayHandle): void;
}

const ADDON = join('native', 'udp-relay', 'build', 'Release', 'sluice_udp_relay.node');

let loaded: NativeAddon<RelayBinding> | null = null;

/** The addon, or why it is not used (`SLUICE_UDP_RELAY=js` turns it off, for comparisons). */
export function nativeRelay(): NativeAddon<RelayBinding> {
  if (loaded) return loaded;
  if (process.env.SLUICE_UDP_RELAY === 'js') return (loaded = { error: 'SLUICE_UDP_RELAY=js' });
  return (loaded = loadNativeAddon<RelayBinding>(ADDON));
}

export class NativeGatewaySockets implements GatewaySockets {
  readonly kind = 'native';
  private handle: RelayHandle | null = null;
  private boundPort = 0;
  /** libjuice's sends for established sessions go straight to the client (its sendto replaced); false: through the loopback hop. */
  direct = false;
  private onFront: FrontHandler | null = null;
  private readonly inner = new Map<number, (msg: Buffer) => void>();

  constructor(private readonly native: RelayBinding) {}

  /** Shared (--workers): each worker binds the port with SO_REUSEPORT; the kernel keeps a client on one worker, the mesh passes its datagrams on when that is not the session's. */
  async listen(port: number, address: string | undefined, shared: boolean, onFront: FrontHandler, juicePort: number): Promise<void> {
    this.onFront = onFront;
    const h = this.native.create((id, msg, addr, p) => {
      if (id === 0) this.onFront?.(msg, addr!, p!);
      else this.inner.get(id)?.(msg);
    });
    try {
      if (address !== undefined) this.boundPort = this.native.bind(h, address, port, address.includes(':'), juicePort, shared);
      else {
        try {
          this.boundPort = this.native.bind(h, '::', port, true, juicePort, shared);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw err;
          this.boundPort = this.native.bind(h, '0.0.0.0', port, false, juicePort, shared);
        }
      }
    } catch (err) {
      this.native.shutdown(h);
      throw err;
    }
    this.handle = h;
    // SLUICE_UDP_RELAY=hop keeps the loopback hop (for comparisons).
    this.direct = process.env.SLUICE_UDP_RELAY !== 'hop' && this.native.direct(h);
  }

  get port(): number {
    return this.boundPort;
  }

  get stats(): NativeRelayStats | null {
    return this.handle ? this.native.stats(this.handle) : null;
  }

  async open(onInner: (msg: Buffer) => void): Promise<SessionSocket> {
    const h = this.handle;
    if (h === null) throw new Error('WebRTC relay is closed');
    const [id, localAddress, localPort] = this.native.open(h);
    this.inner.set(id, onInner);
    let closed = false;
    return {
      localAddress,
      localPort,
      send: (msg) => {
        if (!closed && this.handle) this.native.sendInner(h, id, msg);
      },
      setCurrent: (address, port) => {
        if (!closed && this.handle) this.native.current(h, id, address, port);
      },
      fastPath: () => {
        if (!closed && this.handle) this.native.fast(h, id, true);
      },
      seenAgo: () => (!closed && this.handle ? this.native.seenAgo(h, id) : -1),
      close: () => {
        if (closed) return;
        closed = true;
        this.inner.delete(id);
        if (this.handle) this.native.close(h, id);
      },
    };
  }

  sendFront(msg: Buffer, port: number, address: string): void {
    if (this.handle) this.native.sendFront(this.handle, msg, address, port);
  }

  close(): void {
    if (this.handle) this.native.shutdown(this.handle);
    this.handle = null;
    this.inner.clear();
    this.onFront = null;
  }
}
