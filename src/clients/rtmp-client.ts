/**
 * An RTMP client over a TCP socket, built on the sans-IO RtmpClientConnection:
 * what the edge uses to pull from and push to an origin, and what tests use
 * where ffmpeg cannot go.
 */
import net from 'node:net';
import tls from 'node:tls';
import { RtmpClientConnection, type RtmpClientEvent } from '../protocol/rtmp/client-connection.js';

export interface RtmpClientOptions {
  host: string;
  port: number;
  app: string;
  tcUrl?: string;
  /** RTMPS: TLS first, the server's certificate verified (system CAs, `NODE_EXTRA_CA_CERTS`) for `host`. */
  tls?: boolean;
  /** How long connect + handshake + connect command may take (ms). */
  timeoutMs?: number;
  /** Called for every event after the connection is set up (media, onStatus...). */
  onEvent?: (e: RtmpClientEvent) => void;
}

export class RtmpClient {
  readonly conn = new RtmpClientConnection();
  readonly socket: net.Socket;
  /** Events kept for `next()`; media events are kept only when no onEvent handler takes them. */
  readonly events: RtmpClientEvent[] = [];
  private waiters: { pred: (e: RtmpClientEvent) => boolean; resolve: (e: RtmpClientEvent) => void; reject: (e: Error) => void }[] = [];
  closed = false;
  streamId = 0;
  onEvent: ((e: RtmpClientEvent) => void) | null;

  private constructor(port: number, host: string, onEvent: ((e: RtmpClientEvent) => void) | undefined, secure: boolean) {
    this.onEvent = onEvent ?? null;
    // SNI carries a host name only, never an address.
    this.socket = secure ? tls.connect({ port, host, ...(net.isIP(host) ? {} : { servername: host }) }) : net.connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters) w.reject(new Error('connection closed'));
      this.waiters = [];
    });
  }

  /** Connects, handshakes, sends `connect` and `createStream`. */
  static async connect(opts: RtmpClientOptions): Promise<RtmpClient> {
    const c = new RtmpClient(opts.port, opts.host, opts.onEvent, opts.tls === true);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`connect to ${opts.host}:${opts.port} timed out`)), timeoutMs);
        c.socket.once(opts.tls === true ? 'secureConnect' : 'connect', () => {
          clearTimeout(t);
          resolve();
        });
        c.socket.once('error', (err) => {
          clearTimeout(t);
          reject(err);
        });
      });
      c.socket.write(c.conn.start());
      await c.next((e) => e.type === 'handshakeDone', timeoutMs);
      c.socket.write(c.conn.connect(opts.app, opts.tcUrl ?? `rtmp://${opts.host}:${opts.port}/${opts.app}`));
      const tid = c.conn.lastTransactionId;
      const res = await c.next((e) => (e.type === 'result' || e.type === 'error') && e.transactionId === tid, timeoutMs);
      if (res.type === 'error') throw new Error('RTMP connect rejected');
      c.socket.write(c.conn.createStream());
      const csTid = c.conn.lastTransactionId;
      const cs = await c.next((e) => e.type === 'result' && e.transactionId === csTid, timeoutMs);
      c.streamId = cs.type === 'result' ? Number(cs.args[1] ?? 1) : 1;
      return c;
    } catch (err) {
      c.socket.destroy();
      throw err;
    }
  }

  private onData(d: Buffer): void {
    let evs: RtmpClientEvent[];
    try {
      evs = this.conn.feed(d);
    } catch (err) {
      this.socket.destroy(err as Error);
      return;
    }
    for (const e of evs) {
      if (e.type === 'send') {
        this.socket.write(e.data);
        continue;
      }
      if (this.onEvent && e.type === 'media') {
        this.onEvent(e);
        continue;
      }
      this.events.push(e);
      this.onEvent?.(e);
      for (const w of [...this.waiters]) {
        if (w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  }

  next(pred: (e: RtmpClientEvent) => boolean, timeoutMs = 10_000): Promise<RtmpClientEvent> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for an RTMP event')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(t);
          resolve(e);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  /** Publishes; resolves with the onStatus code the server answered. */
  async publish(name: string, timeoutMs = 10_000): Promise<string> {
    this.socket.write(this.conn.publish(this.streamId, name));
    const st = await this.next((e) => e.type === 'onStatus' && /^NetStream\.Publish\./.test(e.code), timeoutMs);
    return st.type === 'onStatus' ? st.code : '';
  }

  /** Plays; resolves with the onStatus code the server answered. */
  async play(name: string, timeoutMs = 10_000): Promise<string> {
    this.socket.write(this.conn.play(this.streamId, name));
    const st = await this.next((e) => e.type === 'onStatus' && /^NetStream\.Play\.(Start|StreamNotFound|Failed)/.test(e.code), timeoutMs);
    return st.type === 'onStatus' ? st.code : '';
  }

  /** Sends a media message; false when the socket is full. */
  sendMedia(type: 8 | 9 | 18, timestamp: number, payload: Buffer): boolean {
    return this.socket.write(this.conn.media(type, this.streamId, timestamp, payload));
  }

  media(): { messageType: number; timestamp: number; payload: Buffer }[] {
    return this.events.flatMap((e) => (e.type === 'media' ? [{ messageType: e.messageType, timestamp: e.timestamp, payload: e.payload }] : []));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 2000);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      this.socket.end();
    });
  }
}
