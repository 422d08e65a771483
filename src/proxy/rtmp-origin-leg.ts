/**
 * The RTMP proxy's back half, sans-IO: the proxy's connection to the chosen
 * origin. It does the client side of the handshake, then hands the origin
 * the client's recorded chunk stream (see rtmp-route-sniffer.ts); from then
 * on the client's bytes go to the origin untouched. The origin's messages
 * are re-chunked for the client: the client already holds the proxy's
 * chunk size and header state, so the origin's chunks cannot pass as they
 * are. Dropped on the way: the origin's `_result`s to the transactions the
 * proxy answered, and its Set Chunk Size / Window Ack / Peer Bandwidth /
 * Ack (the proxy sent the client its own).
 */
import { AMF_COMMAND_LIMITS, decodeAmf0 } from '../format/amf0.js';
import { RtmpChunkReader, type RtmpMessage } from '../protocol/rtmp/chunk-reader.js';
import { encodeRtmpMessage, MSG } from '../protocol/rtmp/chunk-writer.js';
import { RtmpClientHandshake } from '../protocol/rtmp/handshake.js';
import { PROXY_OUT_CHUNK_SIZE, type RtmpRoute } from './rtmp-route-sniffer.js';

export interface LegStep {
  toOrigin: Buffer[];
  toClient: Buffer[];
}

const DROPPED_TYPES = new Set<number>([MSG.SET_CHUNK_SIZE, MSG.ABORT, MSG.ACK, MSG.WINDOW_ACK_SIZE, MSG.SET_PEER_BANDWIDTH]);

export class RtmpOriginLeg {
  private readonly handshake = new RtmpClientHandshake();
  private handshaking = true;
  private readonly reader = new RtmpChunkReader();
  private readonly unanswered: Set<number>;

  constructor(private readonly route: RtmpRoute) {
    this.unanswered = new Set(route.answered);
  }

  /** C0 + C1, the first bytes to the origin. */
  start(): Buffer {
    return this.handshake.start();
  }

  /** True once the origin has the client's chunk stream: client bytes may then go straight through. */
  get ready(): boolean {
    return !this.handshaking;
  }

  /** Bytes from the origin. Throws RtmpError on a broken origin stream. */
  feed(buf: Buffer): LegStep {
    const step: LegStep = { toOrigin: [], toClient: [] };
    let data: Buffer | null = buf;
    if (this.handshaking) {
      const hs = this.handshake.feed(buf);
      step.toOrigin.push(...hs.send);
      if (!hs.done) return step;
      this.handshaking = false;
      if (this.route.replay.length > 0) step.toOrigin.push(this.route.replay);
      data = hs.rest;
    }
    if (data) this.reader.feedEach(data, (m) => this.pass(m, step.toClient));
    return step;
  }

  private pass(m: RtmpMessage, out: Buffer[]): void {
    if (DROPPED_TYPES.has(m.type)) return;
    if (this.unanswered.size > 0 && (m.type === MSG.COMMAND_AMF0 || m.type === MSG.COMMAND_AMF3) && this.isAnswered(m)) return;
    out.push(encodeRtmpMessage(m, PROXY_OUT_CHUNK_SIZE, m.csid));
  }

  /**
   * An `_result` to a transaction the proxy already answered (consumed once).
   * An `_error` passes: the origin refused what the proxy had let through, and
   * the client should hear why before the origin closes.
   */
  private isAnswered(m: RtmpMessage): boolean {
    const body = m.type === MSG.COMMAND_AMF3 && m.payload[0] === 0 ? m.payload.subarray(1) : m.payload;
    let head: unknown[];
    try {
      head = decodeAmf0(body, 2, AMF_COMMAND_LIMITS);
    } catch {
      return false;
    }
    const [name, txn] = head;
    if (name !== '_result' || typeof txn !== 'number' || !this.unanswered.has(txn)) return false;
    this.unanswered.delete(txn);
    return true;
  }
}
