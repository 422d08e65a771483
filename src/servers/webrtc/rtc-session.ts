/**
 * What WHIP publishers and WHEP players share: the ClientSession face the
 * hub, API and hooks see, the peer's life (connect timeout, failure, close)
 * and the DELETE token.
 */
import { randomBytes } from 'node:crypto';
import type { PeerConnection, Track } from 'node-datachannel';
import type { ClientSession, ClientType, StreamRequest } from '../../core/client-registry.js';
import type { Logger } from '../../log/logger.js';

export interface RtcSessionInit extends StreamRequest {
  id: string;
  ip: string;
  bearer?: string;
  log: Logger;
}

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A session not connected within this time is dropped (ms). */
const CONNECT_TIMEOUT_MS = 15_000;

export abstract class RtcSession implements ClientSession {
  readonly createdAt = Date.now();
  abstract type: ClientType;
  readonly id: string;
  readonly ip: string;
  vhost: string;
  app: string;
  stream: string;
  param: string;
  tcUrl: string;
  pageUrl: string;
  readonly bearer: string;
  /** `localUfrag:remoteUfrag`, SRS's session id in the API and the DELETE URL. */
  username = '';
  /** Guards DELETE (9 characters, like SRS). */
  readonly token = [...randomBytes(9)].map((b) => TOKEN_CHARS[b % TOKEN_CHARS.length]).join('');
  closed = false;
  connected = false;
  protected pc: PeerConnection | null = null;
  /** Closed with the peer: a track's callbacks are native references that would keep this session alive forever. */
  private tracks: Track[] = [];
  protected log: Logger;
  private bytesInLast = 0;
  private bytesOutLast = 0;
  private lifeTimer: NodeJS.Timeout | null = null;
  onClosed: ((s: RtcSession) => void) | null = null;
  /** Gives the session's max_connections slot back; run once, on close. */
  slot: (() => void) | null = null;
  /**
   * Behind the gateway: whether libjuice's peer address is one of the
   * gateway's (or TCP relay's) loopback sockets. A session whose ICE pair
   * reached libjuice's internal port some other way bypasses the gateway
   * (no address following, no spoofing guard) and is closed.
   */
  viaGateway: ((address: string, port: number) => boolean) | null = null;

  constructor(init: RtcSessionInit) {
    this.id = init.id;
    this.ip = init.ip;
    this.vhost = init.vhost;
    this.app = init.app;
    this.stream = init.stream;
    this.param = init.param;
    this.tcUrl = init.tcUrl;
    this.pageUrl = init.pageUrl;
    this.bearer = init.bearer ?? '';
    this.log = init.log;
  }

  bytesIn(): number {
    if (this.pc && !this.closed) this.bytesInLast = this.pc.bytesReceived();
    return this.bytesInLast;
  }

  bytesOut(): number {
    if (this.pc && !this.closed) this.bytesOutLast = this.pc.bytesSent();
    return this.bytesOutLast;
  }

  /** Watches the peer: connected → onConnected; failed/closed → close; `disconnected` for longer than stunTimeoutMs → close. */
  protected attachPeer(pc: PeerConnection, tracks: readonly Track[], stunTimeoutMs: number): void {
    this.pc = pc;
    this.tracks = [...tracks];
    this.lifeTimer = setTimeout(() => this.close('ICE/DTLS not connected in time'), CONNECT_TIMEOUT_MS);
    this.lifeTimer.unref();
    pc.onStateChange((state) => {
      if (this.closed) return;
      if (state === 'connected') {
        if (this.lifeTimer) clearTimeout(this.lifeTimer);
        this.lifeTimer = null;
        if (!this.connected) {
          const remote = this.viaGateway ? pc.getSelectedCandidatePair()?.remote : undefined;
          if (this.viaGateway && (!remote || !this.viaGateway(remote.address, remote.port))) {
            this.log.warn({ ip: this.ip, remote: remote ? `${remote.address}:${remote.port}` : null }, 'WebRTC: ICE pair bypasses the UDP gateway');
            setImmediate(() => this.close('ICE pair bypasses the UDP gateway'));
            return;
          }
          this.connected = true;
          this.log.info({ ip: this.ip }, `${this.type} connected`);
          this.onConnected();
        }
      } else if (state === 'disconnected') {
        // A network change: ICE may recover on its own (consent checks from the new address).
        if (this.lifeTimer) clearTimeout(this.lifeTimer);
        this.lifeTimer = setTimeout(() => this.close('peer disconnected (stun_timeout)'), stunTimeoutMs);
        this.lifeTimer.unref();
      } else if (state === 'failed' || state === 'closed') {
        setImmediate(() => this.close(`peer ${state}`));
      }
    });
  }

  protected abstract onConnected(): void;
  /** Counters for the session's closing log line (retransmissions, RTX, TWCC). */
  protected closeStats(): Record<string, number> {
    return {};
  }
  protected abstract release(reason: string): void;

  close(reason: string): void {
    if (this.closed) return;
    this.bytesIn();
    this.bytesOut();
    this.closed = true;
    if (this.lifeTimer) clearTimeout(this.lifeTimer);
    this.lifeTimer = null;
    try {
      this.release(reason);
    } finally {
      const pc = this.pc;
      const tracks = this.tracks;
      this.pc = null;
      this.tracks = [];
      // Closing from inside a libdatachannel callback is safe only on a later turn. Tracks first:
      // node-datachannel releases a track's callbacks (which hold this session) only when the
      // track itself is closed, and gives up if the track is already gone with its peer.
      setImmediate(() => {
        for (const t of tracks) {
          try {
            t.close();
          } catch {
            /* already closed */
          }
        }
        pc?.close();
      });
      this.slot?.();
      this.slot = null;
      this.onClosed?.(this);
      this.log.info({ reason, recv: this.bytesInLast, sent: this.bytesOutLast, ...this.closeStats() }, `${this.type} session closed`);
    }
  }
}
