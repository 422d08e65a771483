/**
 * WebRTC on every core (`--workers N`): the workers share one public UDP
 * port (with the native relay each binds it with SO_REUSEPORT and the kernel
 * keeps each client address on one worker; with dgram node:cluster hands
 * every worker the primary's socket and whichever reads first gets the
 * datagram), so a datagram may land in a worker that does not hold its session. Each worker tells the
 * others, through the primary, which ICE ufrags and verified client
 * addresses it owns; a datagram for a sibling's session is passed to that
 * sibling over loopback UDP, wrapped with the client's address. Media out
 * (the bulk for WHEP) leaves from the owner's copy of the shared socket:
 * no extra hop.
 *
 * The wire between siblings: [u8 n][n bytes client ip, ASCII][u16 client port][datagram].
 * A sibling's relay socket is known by its loopback port; anything else is dropped.
 */
import cluster from 'node:cluster';
import dgram from 'node:dgram';
import type { Logger } from '../../log/logger.js';

/** Tag of the mesh's cluster IPC messages; the primary relays them to every other worker. */
export const MESH_CHANNEL = 'sluice-rtc-mesh';
/** Set by the primary in its workers' environment when the WebRTC UDP port was in use before they started. */
export const MESH_PORT_TAKEN = 'SLUICE_RTC_UDP_PORT_TAKEN';

/**
 * The primary's check before forking: whether another process holds this UDP port (an exclusive bind
 * fails). `address`: where the workers will bind it (127.0.0.1 for `protocol tcp`, whose gateway is on
 * loopback only); every address by default.
 */
export async function udpPortInUse(port: number, address?: '127.0.0.1'): Promise<boolean> {
  if (port <= 0) return false;
  const s = address ? dgram.createSocket('udp4') : dgram.createSocket({ type: 'udp6', ipv6Only: false });
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ port, address: address ?? '::', exclusive: true }, () => resolve());
    });
    return false;
  } catch (err) {
    // Anything but "in use" (no IPv6, ...) is for the workers' own bind to report.
    return (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
  } finally {
    s.close();
  }
}

/** What a worker sends (the primary adds `from`, the sender's cluster worker id). */
export type MeshMessage =
  | { ch: typeof MESH_CHANNEL; t: 'hello'; port: number }
  | { ch: typeof MESH_CHANNEL; t: 'sync'; port: number; u: string[]; a: string[] }
  | { ch: typeof MESH_CHANNEL; t: 'set' | 'del'; k: 'u' | 'a'; key: string }
  | { ch: typeof MESH_CHANNEL; t: 'gone' };

export type RelayedMeshMessage = MeshMessage & { from: number };

export function isMeshMessage(m: unknown): m is MeshMessage {
  return typeof m === 'object' && m !== null && (m as { ch?: unknown }).ch === MESH_CHANNEL;
}

/** The owner side: what this worker owns, re-sent in full when a sibling (re)starts. */
export interface MeshOwned {
  ufrags(): Iterable<string>;
  addresses(): Iterable<string>;
}

export class RtcWorkerMesh {
  private sock: dgram.Socket | null = null;
  /** Sibling worker id → its relay socket's loopback port. */
  private readonly siblings = new Map<number, number>();
  private readonly siblingPorts = new Set<number>();
  private readonly ufragOwner = new Map<string, number>();
  private readonly addrOwner = new Map<string, number>();
  private readonly onIpc = (m: unknown): void => {
    if (isMeshMessage(m)) this.onMessage(m as RelayedMeshMessage);
  };
  /** Datagrams relayed to siblings, and received from them. */
  relayedOut = 0;
  relayedIn = 0;

  constructor(
    private readonly log: Logger,
    private readonly owned: MeshOwned,
    /** A datagram a sibling received for one of this worker's sessions. */
    private readonly deliver: (msg: Buffer, address: string, port: number) => void,
    /** Something new is known about siblings (datagrams held for lack of a route may now go). */
    private readonly learned: () => void,
  ) {}

  /** Whether this process is a worker of a multi-process server (only then is the port shared). */
  /**
   * The primary found the UDP port held by another process before forking (MESH_PORT_TAKEN): SO_REUSEPORT
   * would let the workers join that process's socket group silently, so they take no WebRTC offer instead.
   */
  static get portTaken(): boolean {
    return process.env[MESH_PORT_TAKEN] === '1';
  }

  static get wanted(): boolean {
    return cluster.isWorker && typeof process.send === 'function';
  }

  async start(): Promise<void> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      // exclusive: the relay socket is this worker's own, never shared through the primary.
      s.bind({ port: 0, address: '127.0.0.1', exclusive: true }, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('message', (msg, rinfo) => this.onRelay(msg, rinfo.address, rinfo.port));
    s.on('error', (err) => this.log.warn({ err: err.message }, 'WebRTC worker relay socket error'));
    this.sock = s;
    process.on('message', this.onIpc);
    this.send({ ch: MESH_CHANNEL, t: 'hello', port: s.address().port });
  }

  close(): void {
    process.off('message', this.onIpc);
    this.sock?.close();
    this.sock = null;
  }

  announce(k: 'u' | 'a', key: string, on: boolean): void {
    this.send({ ch: MESH_CHANNEL, t: on ? 'set' : 'del', k, key });
  }

  /** Passes a datagram to the sibling owning the ufrag; false when no sibling does. */
  relayByUfrag(ufrag: string, msg: Buffer, address: string, port: number): boolean {
    const w = this.ufragOwner.get(ufrag);
    return w !== undefined && this.relay(w, msg, address, port);
  }

  /** Passes a datagram to the sibling owning the client address (`ip|port`); false when no sibling does. */
  relayByAddress(key: string, msg: Buffer, address: string, port: number): boolean {
    const w = this.addrOwner.get(key);
    return w !== undefined && this.relay(w, msg, address, port);
  }

  private relay(worker: number, msg: Buffer, address: string, port: number): boolean {
    const to = this.siblings.get(worker);
    if (to === undefined || this.sock === null) return false;
    const ip = Buffer.from(address, 'latin1');
    const head = Buffer.allocUnsafe(3 + ip.length);
    head[0] = ip.length;
    ip.copy(head, 1);
    head.writeUInt16BE(port, 1 + ip.length);
    this.relayedOut++;
    this.sock.send([head, msg], to, '127.0.0.1');
    return true;
  }

  private onRelay(msg: Buffer, from: string, fromPort: number): void {
    if (from !== '127.0.0.1' || !this.siblingPorts.has(fromPort) || msg.length < 4) return;
    const n = msg[0]!;
    if (msg.length < 3 + n + 1) return;
    const address = msg.toString('latin1', 1, 1 + n);
    const port = msg.readUInt16BE(1 + n);
    this.relayedIn++;
    this.deliver(msg.subarray(3 + n), address, port);
  }

  private onMessage(m: RelayedMeshMessage): void {
    const from = m.from;
    switch (m.t) {
      case 'hello':
      case 'sync':
        this.addSibling(from, m.port);
        if (m.t === 'sync') {
          for (const u of m.u) this.ufragOwner.set(u, from);
          for (const a of m.a) this.addrOwner.set(a, from);
        } else if (this.sock !== null) {
          // A sibling (re)started: it learns everything this worker owns.
          this.send({ ch: MESH_CHANNEL, t: 'sync', port: this.sock.address().port, u: [...this.owned.ufrags()], a: [...this.owned.addresses()] });
        }
        break;
      case 'set':
        (m.k === 'u' ? this.ufragOwner : this.addrOwner).set(m.key, from);
        break;
      case 'del': {
        const map = m.k === 'u' ? this.ufragOwner : this.addrOwner;
        // Only the sibling's own claim goes: another may have taken the address since.
        if (map.get(m.key) === from) map.delete(m.key);
        return;
      }
      case 'gone':
        this.dropSibling(from);
        return;
    }
    this.learned();
  }

  private addSibling(id: number, port: number): void {
    const old = this.siblings.get(id);
    if (old !== undefined) this.siblingPorts.delete(old);
    this.siblings.set(id, port);
    this.siblingPorts.add(port);
  }

  private dropSibling(id: number): void {
    const port = this.siblings.get(id);
    if (port !== undefined) this.siblingPorts.delete(port);
    this.siblings.delete(id);
    for (const map of [this.ufragOwner, this.addrOwner]) for (const [k, w] of map) if (w === id) map.delete(k);
  }

  private send(m: MeshMessage): void {
    try {
      process.send?.(m);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'WebRTC worker mesh: cannot reach the primary');
    }
  }
}
