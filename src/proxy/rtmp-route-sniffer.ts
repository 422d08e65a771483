/**
 * The RTMP proxy's front half, sans-IO: plays server for a client until it
 * says play or publish, so that the stream name is known before any origin
 * is chosen. It answers the handshake, connect and createStream itself (the
 * client waits for those before naming the stream), and keeps every byte
 * the client sent after the handshake: the origin is then handed exactly
 * that chunk stream, so it sees the client's own connect, chunk size and
 * commands. Bounded: a client that has not named a stream within
 * MAX_SNIFF_BYTES is refused (the server wing also bounds the time).
 */
import { HANDSHAKE_SIZE } from '../protocol/rtmp/handshake.js';
import { RtmpError } from '../protocol/rtmp/rtmp-error.js';
import { RtmpServerConnection } from '../protocol/rtmp/server-connection.js';
import { parseStreamRequest } from '../protocol/stream-url.js';
import { streamKeyOf } from './stream-key.js';

/** C0 + C1 + C2: what a client sends before its chunk stream. */
const CLIENT_HANDSHAKE_BYTES = 1 + 2 * HANDSHAKE_SIZE;
/** A connect with every URL field at its limit is ~20 KiB; the rest of the preamble is a few hundred bytes. */
export const MAX_SNIFF_BYTES = CLIENT_HANDSHAKE_BYTES + 64 * 1024;
/** The message stream id createStream hands out (Sluice and SRS origins answer 1 too). */
const STREAM_ID = 1;
const WINDOW = 2_500_000;
/** As SRS: the chunk size the proxy writes to the client with, from connect on. */
export const PROXY_OUT_CHUNK_SIZE = 60_000;

export interface RtmpRoute {
  action: 'play' | 'publish';
  streamKey: string;
  tcUrl: string;
  streamName: string;
  /** The client's chunk stream so far (after its handshake), to replay to the origin. */
  replay: Buffer;
  /** Transactions the proxy answered: the origin's answers to them are not passed on. */
  answered: number[];
}

export interface SniffStep {
  send: Buffer[];
  route: RtmpRoute | null;
}

export class RtmpRouteSniffer {
  private readonly conn = new RtmpServerConnection();
  private readonly seen: Buffer[] = [];
  private seenBytes = 0;
  private tcUrl: string | null = null;
  private readonly answered: number[] = [];
  private done = false;

  feed(buf: Buffer): SniffStep {
    if (this.done) throw new RtmpError('protocol', 'the route is already known');
    if (this.seenBytes + buf.length > MAX_SNIFF_BYTES) {
      throw new RtmpError('limit', `no play or publish within ${MAX_SNIFF_BYTES} bytes`);
    }
    this.seen.push(buf);
    this.seenBytes += buf.length;
    const send: Buffer[] = [];
    for (const ev of this.conn.feed(buf)) {
      if (ev.type === 'send') send.push(ev.data);
      else if (ev.type === 'connect') {
        this.tcUrl = ev.tcUrl;
        send.push(this.conn.windowAckSize(WINDOW), this.conn.setPeerBandwidth(WINDOW, 2), this.conn.setChunkSize(PROXY_OUT_CHUNK_SIZE));
        send.push(this.conn.connectResult(ev.transactionId));
        this.answered.push(ev.transactionId);
      } else if (ev.type === 'createStream') {
        if (this.tcUrl === null) throw new RtmpError('protocol', 'createStream before connect');
        send.push(this.conn.createStreamResult(ev.transactionId, STREAM_ID));
        this.answered.push(ev.transactionId);
      } else if (ev.type === 'play' || ev.type === 'publish') {
        if (this.tcUrl === null) throw new RtmpError('protocol', `${ev.type} before connect`);
        const req = parseStreamRequest(this.tcUrl, ev.streamName);
        if (req.stream === '') throw new RtmpError('protocol', `${ev.type} without a stream name`);
        this.done = true;
        const all = Buffer.concat(this.seen);
        this.seen.length = 0;
        return {
          send,
          route: {
            action: ev.type,
            streamKey: streamKeyOf(req),
            tcUrl: this.tcUrl,
            streamName: ev.streamName,
            replay: all.subarray(CLIENT_HANDSHAKE_BYTES),
            answered: this.answered,
          },
        };
      } else if (ev.type === 'media') throw new RtmpError('protocol', 'media before publish');
    }
    return { send, route: null };
  }
}
