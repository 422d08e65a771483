/**
 * What an SRT publisher and an SRT player share: the ClientSession face
 * (API, hooks, kick), the connection state machine and the one UDP socket
 * the server lends it, and the per-connection statistics.
 */
import type { ClientSession, ClientType, LinkStats, StreamRequest } from '../../core/client-registry.js';
import type { Logger } from '../../log/logger.js';
import type { SrtConnection, SrtStats } from '../../protocol/srt/srt-connection.js';

export interface SrtSessionInit extends StreamRequest {
  id: string;
  ip: string;
  port: number;
  conn: SrtConnection;
  log: Logger;
  /** Sends the connection's pending datagrams (the server's socket). */
  flush: (s: SrtSession) => void;
}

export abstract class SrtSession implements ClientSession {
  readonly createdAt = Date.now();
  abstract type: ClientType;
  readonly id: string;
  readonly ip: string;
  readonly port: number;
  vhost: string;
  app: string;
  stream: string;
  param: string;
  tcUrl: string;
  pageUrl = '';
  readonly conn: SrtConnection;
  readonly log: Logger;
  protected readonly flushOut: (s: SrtSession) => void;
  closed = false;
  /** Set by the server: unregisters the session, gives its slot back, tells the policies. */
  onClosed: ((s: SrtSession, reason: string) => void) | null = null;

  constructor(init: SrtSessionInit) {
    this.id = init.id;
    this.ip = init.ip;
    this.port = init.port;
    this.vhost = init.vhost;
    this.app = init.app;
    this.stream = init.stream;
    this.param = init.param;
    this.tcUrl = init.tcUrl;
    this.conn = init.conn;
    this.log = init.log;
    this.flushOut = init.flush;
  }

  linkStats(): LinkStats {
    const st: SrtStats = this.conn.stats;
    return {
      rttMs: Math.round(st.rttUs / 100) / 10,
      packetsReceived: st.packetsReceived,
      packetsSent: st.packetsSent,
      packetsLost: st.packetsLost,
      packetsRetransmitted: st.packetsRetransmitted + st.packetsRetransmittedIn,
      packetsDropped: st.packetsDropped + st.packetsSendDropped,
      recvBufferPackets: st.recvBufferPackets,
      sendBufferPackets: st.sendBufferPackets,
    };
  }

  bytesIn(): number {
    return this.conn.stats.bytesReceived;
  }

  bytesOut(): number {
    return this.conn.stats.bytesSent;
  }

  /** Payloads the connection delivered, in order. */
  abstract onPayloads(payloads: Buffer[]): void;

  protected abstract release(reason: string): void;

  /** Ends the session (API kick, shutdown, bad input); tells the peer with SHUTDOWN. */
  close(reason: string): void {
    if (this.closed) return;
    this.conn.close(reason, performance.now() * 1000);
    this.flushOut(this);
    this.ended(reason);
  }

  /** The connection ended on its own (peer shutdown, idle timeout) or through close(). */
  ended(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.release(reason);
    } finally {
      this.onClosed?.(this, reason);
      const st = this.conn.stats;
      this.log.info({ reason, recv: st.bytesReceived, sent: st.bytesSent, lost: st.packetsLost, retransmitted: st.packetsRetransmitted, dropped: st.packetsDropped + st.packetsSendDropped, rttMs: Math.round(st.rttUs / 1000), dropRequests: st.dropRequestsIn, belated: st.packetsBelated, received: st.packetsReceived }, `${this.type} session closed`);
    }
  }
}
