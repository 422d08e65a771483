/**
 * A small RTMP client over a socket, built on our sans-IO RtmpClientConnection,
 * for the tests that need what ffmpeg cannot do: thousands of short publishes,
 * a publisher that goes silent, enhanced-RTMP codecs this ffmpeg cannot mux.
 */
import net from 'node:net';
import { RtmpClientConnection, type RtmpClientEvent } from '../../src/protocol/rtmp/client-connection.js';

export class RtmpSocketClient {
  readonly conn = new RtmpClientConnection();
  readonly socket: net.Socket;
  readonly events: RtmpClientEvent[] = [];
  private waiters: { pred: (e: RtmpClientEvent) => boolean; resolve: (e: RtmpClientEvent) => void; reject: (e: Error) => void }[] = [];
  closed = false;
  streamId = 0;

  private constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => {
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
        this.events.push(e);
        for (const w of [...this.waiters]) if (w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters) w.reject(new Error('connection closed'));
      this.waiters = [];
    });
  }

  static async connect(port: number, app: string, tcUrl = `rtmp://127.0.0.1:${port}/${app}`): Promise<RtmpSocketClient> {
    const c = new RtmpSocketClient(port);
    await new Promise<void>((resolve, reject) => {
      c.socket.once('connect', () => resolve());
      c.socket.once('error', reject);
    });
    c.socket.write(c.conn.start());
    const handshake = c.next((e) => e.type === 'handshakeDone');
    await handshake;
    c.socket.write(c.conn.connect(app, tcUrl));
    const tid = c.conn.lastTransactionId;
    const res = await c.next((e) => (e.type === 'result' || e.type === 'error') && e.transactionId === tid);
    if (res.type === 'error') throw new Error('connect rejected');
    c.socket.write(c.conn.createStream());
    const csTid = c.conn.lastTransactionId;
    const cs = await c.next((e) => e.type === 'result' && e.transactionId === csTid);
    c.streamId = cs.type === 'result' ? Number(cs.args[1] ?? 1) : 1;
    return c;
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
  async publish(name: string): Promise<string> {
    this.socket.write(this.conn.publish(this.streamId, name));
    const st = await this.next((e) => e.type === 'onStatus' && /^NetStream\.Publish\./.test(e.code));
    return st.type === 'onStatus' ? st.code : '';
  }

  async play(name: string): Promise<string> {
    this.socket.write(this.conn.play(this.streamId, name));
    const st = await this.next((e) => e.type === 'onStatus' && /^NetStream\.Play\.(Start|StreamNotFound)/.test(e.code));
    return st.type === 'onStatus' ? st.code : '';
  }

  sendMedia(type: 8 | 9 | 18, timestamp: number, payload: Buffer): void {
    this.socket.write(this.conn.media(type, this.streamId, timestamp, payload));
  }

  media(): { messageType: number; timestamp: number; payload: Buffer }[] {
    return this.events.flatMap((e) => (e.type === 'media' ? [{ messageType: e.messageType, timestamp: e.timestamp, payload: e.payload }] : []));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 2000).unref();
    });
  }
}
