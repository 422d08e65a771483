/**
 * A light RTMP chunk stream reader for the load generator (sans-IO).
 *
 * Unlike the server's RtmpChunkReader it does not assemble every message:
 * it parses chunk headers and skips bodies, assembling only the message
 * types the caller asks for (control, commands, and video until the first
 * frame). Bytes it is fed are never retained, so the caller may reuse one
 * read buffer for every socket. Only the header state of each chunk stream
 * is kept per connection.
 */
import { BenchError } from './bench-error.js';

/**
 * Called once per completed message, with positional arguments so that the
 * hot path allocates nothing. `payload` is the body when its type was set to
 * be assembled, else null.
 */
export type SkimHandler = (type: number, timestamp: number, length: number, payload: Buffer | null, streamId: number) => void;

export interface RtmpSkimmerOptions {
  /** Largest message assembled (default 4 MiB); larger wanted messages are errors. */
  maxAssembled?: number;
  /** Largest chunk size a peer may set (default 16 MiB). */
  maxChunkSize?: number;
  /** Most chunk streams a peer may use (default 64). */
  maxChunkStreams?: number;
}

interface ChunkStreamState {
  timestamp: number;
  delta: number;
  extended: boolean;
  length: number;
  type: number;
  streamId: number;
  received: number;
  buf: Buffer | null;
  started: boolean;
}

const MSG_HEADER_SIZE = [11, 7, 3, 0];

export class RtmpSkimmer {
  /** Message types to assemble (indexed by type id). Control types 1 and 2 are always assembled. */
  readonly assemble = new Uint8Array(256);
  private chunkSize = 128;
  private readonly streams = new Map<number, ChunkStreamState>();
  private readonly stash = Buffer.allocUnsafe(18);
  private stashLen = 0;
  private cur: ChunkStreamState | null = null;
  private chunkLeft = 0;
  private readonly maxAssembled: number;
  private readonly maxChunkSize: number;
  private readonly maxChunkStreams: number;

  constructor(opts: RtmpSkimmerOptions = {}) {
    this.maxAssembled = opts.maxAssembled ?? 4 * 1024 * 1024;
    this.maxChunkSize = opts.maxChunkSize ?? 16 * 1024 * 1024;
    this.maxChunkStreams = opts.maxChunkStreams ?? 64;
    this.assemble[1] = 1;
    this.assemble[2] = 1;
  }

  get inChunkSize(): number {
    return this.chunkSize;
  }

  /**
   * Parses `buf[off..end)`; calls `onMessage` for each completed message.
   * Wanted payloads are copies (the input may be reused right after).
   */
  feed(buf: Buffer, onMessage: SkimHandler, off = 0, end = buf.length): void {
    while (off < end) {
      if (this.chunkLeft > 0) {
        const cs = this.cur as ChunkStreamState;
        const n = Math.min(this.chunkLeft, end - off);
        if (cs.buf) buf.copy(cs.buf, cs.received, off, off + n);
        cs.received += n;
        this.chunkLeft -= n;
        off += n;
        if (this.chunkLeft === 0 && cs.received === cs.length) this.complete(cs, onMessage);
        continue;
      }
      // A chunk header: parse from the stash when a previous feed ended inside one.
      if (this.stashLen > 0) {
        const take = Math.min(this.stash.length - this.stashLen, end - off);
        buf.copy(this.stash, this.stashLen, off, off + take);
        const have = this.stashLen + take;
        const used = this.header(this.stash, 0, have);
        if (used < 0) {
          this.stashLen = have;
          return;
        }
        off += used - this.stashLen;
        this.stashLen = 0;
      } else {
        const used = this.header(buf, off, end);
        if (used < 0) {
          buf.copy(this.stash, 0, off, end);
          this.stashLen = end - off;
          return;
        }
        off += used;
      }
      const cs = this.cur as ChunkStreamState;
      if (cs.length === 0) this.complete(cs, onMessage);
    }
  }

  /** Parses one chunk header at `off`; returns bytes used, or -1 when incomplete. */
  private header(b: Buffer, off: number, end: number): number {
    const start = off;
    if (off >= end) return -1;
    const fmt = b[off] >> 6;
    let csid = b[off] & 0x3f;
    off++;
    if (csid === 0) {
      if (off + 1 > end) return -1;
      csid = 64 + b[off];
      off++;
    } else if (csid === 1) {
      if (off + 2 > end) return -1;
      csid = 64 + b[off] + b[off + 1] * 256;
      off += 2;
    }
    const mh = MSG_HEADER_SIZE[fmt];
    if (off + mh > end) return -1;
    let cs = this.streams.get(csid);
    if (!cs) {
      if (fmt !== 0) throw new BenchError(`RTMP chunk stream ${csid} starts with a type ${fmt} header`);
      if (this.streams.size >= this.maxChunkStreams) throw new BenchError(`more than ${this.maxChunkStreams} RTMP chunk streams`);
      cs = { timestamp: 0, delta: 0, extended: false, length: 0, type: 0, streamId: 0, received: 0, buf: null, started: false };
      this.streams.set(csid, cs);
    }
    const inMessage = cs.started && cs.received < cs.length;
    if (fmt === 3) {
      if (cs.extended) {
        if (off + 4 > end) return -1;
        off += 4;
      }
      if (!inMessage) {
        cs.timestamp = (cs.timestamp + cs.delta) % 0x100000000;
        this.begin(cs);
      }
    } else {
      if (inMessage) throw new BenchError(`RTMP type ${fmt} header inside a message on chunk stream ${csid}`);
      let ts = (b[off] << 16) | (b[off + 1] << 8) | b[off + 2];
      const extended = ts === 0xffffff;
      if (extended) {
        if (off + mh + 4 > end) return -1;
        ts = b.readUInt32BE(off + mh);
      }
      if (fmt <= 1) {
        cs.length = (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5];
        cs.type = b[off + 6];
      }
      if (fmt === 0) {
        cs.streamId = b.readUInt32LE(off + 7);
        cs.timestamp = ts;
        cs.delta = 0;
      } else {
        cs.delta = ts;
        cs.timestamp = (cs.timestamp + ts) % 0x100000000;
      }
      cs.extended = extended;
      off += mh + (extended ? 4 : 0);
      this.begin(cs);
    }
    this.cur = cs;
    this.chunkLeft = Math.min(this.chunkSize, cs.length - cs.received);
    return off - start;
  }

  private begin(cs: ChunkStreamState): void {
    cs.started = true;
    cs.received = 0;
    cs.buf = null;
    if (this.assemble[cs.type] === 1) {
      if (cs.length > this.maxAssembled) throw new BenchError(`RTMP message of ${cs.length} bytes exceeds the ${this.maxAssembled}-byte limit`);
      cs.buf = Buffer.allocUnsafe(cs.length);
    }
  }

  private complete(cs: ChunkStreamState, onMessage: SkimHandler): void {
    const payload = cs.buf;
    cs.buf = null;
    cs.received = cs.length;
    if (payload && cs.type === 1) {
      if (payload.length < 4) throw new BenchError('short Set Chunk Size message');
      const size = payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > this.maxChunkSize) throw new BenchError(`invalid RTMP chunk size ${size}`);
      this.chunkSize = size;
    } else if (payload && cs.type === 2) {
      if (payload.length < 4) throw new BenchError('short Abort message');
      const aborted = this.streams.get(payload.readUInt32BE(0));
      if (aborted) {
        aborted.received = aborted.length;
        aborted.buf = null;
      }
    }
    onMessage(cs.type, cs.timestamp, cs.length, payload, cs.streamId);
  }
}
