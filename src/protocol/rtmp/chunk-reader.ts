/**
 * RTMP chunk stream demuxer, sans-IO.
 *
 * Bytes may be split at any boundary across feed() calls. Only a partial
 * chunk header (at most 18 bytes) is ever stashed; chunk bodies go straight
 * into the message being assembled. A message that arrives whole inside one
 * input buffer is returned as a subarray of that buffer (no copy), so the
 * caller must not reuse input buffers (sockets hand out fresh ones).
 *
 * Set Chunk Size (1) and Abort (2) are applied here, immediately, because
 * they change how the very next bytes are parsed; they are still returned so
 * the session can see them.
 */
import { RtmpError } from './rtmp-error.js';

export interface RtmpMessage {
  /** Chunk stream the message arrived on. */
  csid: number;
  /** Message type id (1..22). */
  type: number;
  /** Message stream id. */
  streamId: number;
  /** Absolute timestamp in ms, modulo 2^32. */
  timestamp: number;
  payload: Buffer;
}

export interface ChunkReaderOptions {
  /** Largest media message (audio, video, data, aggregate) accepted (default 16 MiB). */
  maxMessageLength?: number;
  /** Largest message of any other type: commands and control (default 64 KiB). */
  maxCommandLength?: number;
  /** Largest chunk size the peer may set (default 16 MiB). */
  maxChunkSize?: number;
  /** Most chunk streams a peer may open (default 64). */
  maxChunkStreams?: number;
  /** Total bytes of partially received messages across all chunk streams (default 32 MiB). */
  maxPendingBytes?: number;
}

export const DEFAULT_CHUNK_SIZE = 128;
const MIB = 1024 * 1024;
/** A connect with every URL at its limit is ~20 KiB; nothing legitimate that is not media comes near this. */
export const MAX_COMMAND_MESSAGE_BYTES = 64 * 1024;

/** Audio 8, video 9, AMF3 data 15, AMF0 data 18, aggregate 22: the types that carry media. */
function isMediaType(type: number): boolean {
  return type === 8 || type === 9 || type === 15 || type === 18 || type === 22;
}

/** Per chunk stream: the last header (for compressed headers) and the message in progress. */
interface ChunkStream {
  csid: number;
  /** Timestamp of the current/last message (absolute). */
  timestamp: number;
  /** Raw timestamp field of the last type 0/1/2 header (absolute for 0, delta for 1/2). */
  tsField: number;
  /** The last type 0/1/2 header used an extended timestamp. */
  extended: boolean;
  length: number;
  type: number;
  streamId: number;
  /** Assembly buffer of a multi-chunk message: grows with the bytes received, up to the declared length. */
  buf: Buffer | null;
  received: number;
}

const MESSAGE_HEADER_SIZE = [11, 7, 3, 0];
/**
 * A multi-chunk message's buffer starts this big and doubles as its bytes
 * arrive, up to the declared length: memory follows what the peer sent, not
 * what it declared (a 12-byte header declaring 16 MiB, repeated, would
 * otherwise make the server allocate 16 MiB per 12 bytes received).
 */
const FIRST_ASSEMBLY_BYTES = 64 * 1024;

/** Where complete messages go. */
interface Sink {
  push(m: RtmpMessage): void;
}

export class RtmpChunkReader {
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, ChunkStream>();
  private maxMessageLength: number;
  private readonly maxCommandLength: number;
  private readonly maxChunkSize: number;
  private readonly maxChunkStreams: number;
  private maxPendingBytes: number;
  private pendingBytes = 0;

  /**
   * Partial header carried over from the previous feed. Outside Buffer's
   * shared 8 KB pool: a pooled 18 bytes, kept for the connection's life, kept
   * a whole 8 KB slab alive per connection (7 MB at 1,000 players).
   */
  private readonly stash = Buffer.allocUnsafeSlow(18);
  private stashLen = 0;
  /** When non-null we are inside a chunk body of this stream. */
  private current: ChunkStream | null = null;
  /** Body bytes still expected for the current chunk. */
  private chunkLeft = 0;
  private failed: RtmpError | null = null;

  constructor(opts: ChunkReaderOptions = {}) {
    this.maxMessageLength = opts.maxMessageLength ?? 16 * MIB;
    this.maxCommandLength = opts.maxCommandLength ?? MAX_COMMAND_MESSAGE_BYTES;
    this.maxChunkSize = opts.maxChunkSize ?? 16 * MIB;
    this.maxChunkStreams = opts.maxChunkStreams ?? 64;
    this.maxPendingBytes = opts.maxPendingBytes ?? 32 * MIB;
  }

  /** The peer's current chunk size. */
  get inChunkSize(): number {
    return this.chunkSize;
  }

  /**
   * Changes the media message and pending-bytes limits for what follows (the
   * server raises them once a peer asks to publish). Messages already being
   * assembled keep the room they were given.
   */
  setMessageLimits(maxMessageLength: number, maxPendingBytes: number): void {
    this.maxMessageLength = maxMessageLength;
    this.maxPendingBytes = maxPendingBytes;
  }

  /** Applies a chunk size (from the peer's Set Chunk Size message). */
  setChunkSize(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > 0x7fffffff) {
      throw new RtmpError('chunk', `invalid chunk size ${n}`);
    }
    if (n > this.maxChunkSize) {
      throw new RtmpError('limit', `chunk size ${n} exceeds limit ${this.maxChunkSize}`);
    }
    this.chunkSize = n;
  }

  /** Drops the partial message of a chunk stream (Abort message). */
  abort(csid: number): void {
    const cs = this.streams.get(csid);
    if (cs && cs.buf) {
      this.pendingBytes -= cs.length;
      cs.buf = null;
      cs.received = 0;
      if (this.current === cs) {
        this.current = null;
        this.chunkLeft = 0;
      }
    }
  }

  /** Parses as much as possible; returns the complete messages in order. */
  feed(input: Buffer): RtmpMessage[] {
    const out: RtmpMessage[] = [];
    this.feedEach(input, (m) => out.push(m));
    return out;
  }

  /**
   * Parses as much as possible, handing each complete message to `each` as
   * soon as it is whole, so that what it does (a publish raising the limits)
   * applies to the very next header.
   */
  feedEach(input: Buffer, each: (m: RtmpMessage) => void): void {
    if (this.failed) throw this.failed;
    try {
      this.parse(input, { push: each });
    } catch (e) {
      if (e instanceof RtmpError) this.failed = e;
      throw e;
    }
  }

  private parse(input: Buffer, out: Sink): void {
    let pos = 0;
    const end = input.length;
    while (pos < end) {
      if (this.current) {
        pos = this.body(input, pos, out);
        continue;
      }
      if (this.stashLen > 0) {
        // Complete the stashed header from the input, then parse it from the stash.
        for (;;) {
          const need = this.headerSize(this.stash, 0, this.stashLen);
          if (need <= this.stashLen) break;
          const n = Math.min(need - this.stashLen, end - pos);
          if (n === 0) return;
          input.copy(this.stash, this.stashLen, pos, pos + n);
          this.stashLen += n;
          pos += n;
        }
        const len = this.stashLen;
        this.stashLen = 0;
        this.header(this.stash, 0, len, out);
        continue;
      }
      const need = this.headerSize(input, pos, end - pos);
      if (need > end - pos) {
        input.copy(this.stash, 0, pos, end);
        this.stashLen = end - pos;
        return;
      }
      // Fast path: a small message wholly inside this input is returned without copying.
      pos = this.header(input, pos, need, out, input, pos + need);
    }
  }

  /**
   * Size of the chunk header starting at `off`, or a lower bound larger than
   * `avail` when more bytes are needed to tell.
   */
  private headerSize(b: Buffer, off: number, avail: number): number {
    if (avail < 1) return 1;
    const b0 = b[off];
    const fmt = b0 >> 6;
    const low = b0 & 0x3f;
    const basic = low === 0 ? 2 : low === 1 ? 3 : 1;
    const n = basic + MESSAGE_HEADER_SIZE[fmt];
    if (avail < n) return n;
    if (fmt < 3) {
      const p = off + basic;
      const ts = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
      return ts === 0xffffff ? n + 4 : n;
    }
    const cs = this.streams.get(readCsid(b, off, low));
    return cs && cs.extended ? n + 4 : n;
  }

  /**
   * Applies a complete header of `len` bytes at `b[off]`. When `src` is given
   * (header parsed in place), the body may be taken straight from it; returns
   * the new position in `src`.
   */
  private header(b: Buffer, off: number, len: number, out: Sink, src?: Buffer, srcPos = 0): number {
    const b0 = b[off];
    const fmt = b0 >> 6;
    const low = b0 & 0x3f;
    const csid = readCsid(b, off, low);
    let p = off + (low === 0 ? 2 : low === 1 ? 3 : 1);
    let cs = this.streams.get(csid);
    if (!cs) {
      // librtmp may open a chunk stream with a type 1 header; 2 and 3 have nothing to refer to.
      if (fmt > 1) throw new RtmpError('chunk', `chunk stream ${csid} starts with a type ${fmt} header`);
      if (this.streams.size >= this.maxChunkStreams) {
        throw new RtmpError('limit', `more than ${this.maxChunkStreams} chunk streams`);
      }
      cs = { csid, timestamp: 0, tsField: 0, extended: false, length: 0, type: 0, streamId: 0, buf: null, received: 0 };
      this.streams.set(csid, cs);
    }

    if (fmt === 3) {
      if (cs.extended) p += 4; // repeated extended timestamp: value not needed
      if (cs.received === 0 && !cs.buf) {
        // A new message reusing the previous header and delta.
        cs.timestamp = (cs.timestamp + cs.tsField) >>> 0;
      }
    } else {
      if (cs.buf) {
        // A new header in the middle of a message: the old one is abandoned.
        this.pendingBytes -= cs.length;
        cs.buf = null;
        cs.received = 0;
      }
      let ts = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
      p += 3;
      if (fmt <= 1) {
        const length = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
        cs.type = b[p + 3];
        p += 4;
        // Refused by the declared length, before a byte of the body is kept.
        const max = isMediaType(cs.type) ? this.maxMessageLength : this.maxCommandLength;
        if (length > max) {
          throw new RtmpError('limit', `message type ${cs.type} of ${length} bytes exceeds limit ${max}`);
        }
        cs.length = length;
        if (fmt === 0) {
          cs.streamId = b.readUInt32LE(p);
          p += 4;
        }
      }
      cs.extended = ts === 0xffffff;
      if (cs.extended) {
        ts = b.readUInt32BE(p);
        p += 4;
      }
      cs.tsField = ts;
      cs.timestamp = fmt === 0 ? ts : (cs.timestamp + ts) >>> 0;
    }
    if (p - off !== len) throw new RtmpError('chunk', 'internal header size mismatch');

    const remaining = cs.length - cs.received;
    if (cs.length === 0) {
      out.push({ csid, type: cs.type, streamId: cs.streamId, timestamp: cs.timestamp, payload: Buffer.alloc(0) });
      this.control(cs.type, Buffer.alloc(0));
      return srcPos;
    }
    const chunkBody = Math.min(this.chunkSize, remaining);
    if (src && cs.received === 0 && chunkBody === cs.length && src.length - srcPos >= chunkBody) {
      const payload = src.subarray(srcPos, srcPos + chunkBody);
      out.push({ csid, type: cs.type, streamId: cs.streamId, timestamp: cs.timestamp, payload });
      this.control(cs.type, payload);
      return srcPos + chunkBody;
    }
    if (!cs.buf) {
      if (this.pendingBytes + cs.length > this.maxPendingBytes) {
        throw new RtmpError('limit', `partial messages exceed ${this.maxPendingBytes} bytes`);
      }
      this.pendingBytes += cs.length;
      // allocUnsafeSlow: a message under 4 KB would otherwise be a slice of Buffer's shared 8 KB
      // pool, and a frame the GOP cache keeps for seconds would keep the whole slab alive.
      cs.buf = Buffer.allocUnsafeSlow(Math.min(cs.length, FIRST_ASSEMBLY_BYTES));
      cs.received = 0;
    }
    this.current = cs;
    this.chunkLeft = chunkBody;
    return srcPos;
  }

  /** Copies chunk body bytes into the current message. */
  private body(input: Buffer, pos: number, out: Sink): number {
    const cs = this.current as ChunkStream;
    const n = Math.min(this.chunkLeft, input.length - pos);
    let buf = cs.buf as Buffer;
    if (cs.received + n > buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(cs.length, Math.max(buf.length * 2, cs.received + n)));
      buf.copy(grown, 0, 0, cs.received);
      cs.buf = buf = grown;
    }
    input.copy(buf, cs.received, pos, pos + n);
    cs.received += n;
    this.chunkLeft -= n;
    if (this.chunkLeft === 0) {
      this.current = null;
      if (cs.received === cs.length) {
        this.pendingBytes -= cs.length;
        cs.buf = null;
        cs.received = 0;
        out.push({ csid: cs.csid, type: cs.type, streamId: cs.streamId, timestamp: cs.timestamp, payload: buf });
        this.control(cs.type, buf);
      }
    }
    return pos + n;
  }

  /** Set Chunk Size and Abort take effect before the next byte is parsed. */
  private control(type: number, payload: Buffer): void {
    if (type === 1) {
      if (payload.length < 4) throw new RtmpError('chunk', 'short Set Chunk Size message');
      // The top bit is reserved and must be zero.
      const v = payload.readUInt32BE(0);
      if (v & 0x80000000) throw new RtmpError('chunk', `invalid chunk size 0x${v.toString(16)}`);
      this.setChunkSize(v);
    } else if (type === 2) {
      if (payload.length < 4) throw new RtmpError('chunk', 'short Abort message');
      this.abort(payload.readUInt32BE(0));
    }
  }
}

function readCsid(b: Buffer, off: number, low: number): number {
  if (low === 0) return 64 + b[off + 1];
  if (low === 1) return 64 + b[off + 1] + b[off + 2] * 256;
  return low;
}
