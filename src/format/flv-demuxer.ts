/**
 * Streaming FLV parser (sans-IO): bytes in any split → whole tags out.
 * A tag that arrives in one chunk is returned as a subarray of that chunk
 * (callers must not reuse fed buffers); a split one is assembled into one
 * buffer of exactly its size, allocated only after its size is checked.
 */
import { FlvError } from './flv-error.js';
import { FLV_HEADER_SIZE, FLV_TAG_HEADER_SIZE } from './flv-tag.js';
import { FlvTagType } from './flv-tag-body.js';

export interface FlvTag {
  type: number;
  timestamp: number;
  body: Buffer;
}

export interface FlvFileHeader {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface FlvDemuxerOptions {
  /** Largest tag body accepted, in bytes (default 16 MiB - 1, the format's own limit). */
  maxTagSize?: number;
  /** false for bare tag sequences without the file header (e.g. RTMP aggregate messages). */
  fileHeader?: boolean;
}

const enum State {
  Header,
  SkipToFirstTag,
  TagHeader,
  TagBody,
}

/** DataOffset beyond 9 is allowed by the spec but never used; cap what we skip. */
const MAX_HEADER_EXTRA = 1024;
/** First size of a partial tag's assembly buffer; it grows with the bytes that arrive. */
const ASSEMBLY_START = 64 * 1024;

export class FlvDemuxer {
  /** Set once the file header has been read. */
  header: FlvFileHeader | null = null;
  private readonly maxTagSize: number;
  private state: State;
  private need: number;
  private asm: Buffer | null = null;
  private asmFill = 0;
  private tagType = 0;
  private tagTime = 0;
  private tagSize = 0;
  private failure: FlvError | null = null;
  private out: FlvTag[] = [];

  constructor(options: FlvDemuxerOptions = {}) {
    this.maxTagSize = Math.min(options.maxTagSize ?? 0xffffff, 0xffffff);
    if (options.fileHeader === false) {
      this.state = State.TagHeader;
      this.need = FLV_TAG_HEADER_SIZE;
    } else {
      this.state = State.Header;
      this.need = FLV_HEADER_SIZE;
    }
  }

  /** Bytes received but not yet part of a returned tag. */
  get pendingBytes(): number {
    return this.asmFill;
  }

  /** Parses as much as possible; returns the tags completed by this chunk. */
  feed(buf: Buffer): FlvTag[] {
    if (this.failure) throw this.failure;
    const out: FlvTag[] = (this.out = []);
    try {
      let off = 0;
      for (;;) {
        let asm = this.asm;
        if (asm) {
          const n = Math.min(this.need - this.asmFill, buf.length - off);
          if (this.asmFill + n > asm.length) asm = this.growAssembly(this.asmFill + n);
          buf.copy(asm, this.asmFill, off, off + n);
          this.asmFill += n;
          off += n;
          if (this.asmFill < this.need) break;
          this.asm = null;
          this.asmFill = 0;
          this.step(asm, 0);
          continue;
        }
        const avail = buf.length - off;
        if (avail >= this.need) {
          const n = this.need;
          this.step(buf, off);
          off += n;
          continue;
        }
        if (avail > 0) {
          // Room for what arrived, not for the declared size: a peer that declares a
          // 16 MiB tag and sends 11 bytes must not cost 16 MiB (found by fuzz/).
          this.asm = Buffer.allocUnsafe(Math.min(this.need, Math.max(avail, ASSEMBLY_START)));
          buf.copy(this.asm, 0, off);
          this.asmFill = avail;
        }
        break;
      }
    } catch (e) {
      if (e instanceof FlvError) this.failure = e;
      throw e;
    }
    return out;
  }

  /** Grows the assembly buffer to hold `fill` bytes, doubling (capped at the size needed) so copies stay linear. */
  private growAssembly(fill: number): Buffer {
    const old = this.asm as Buffer;
    const grown = Buffer.allocUnsafe(Math.min(this.need, Math.max(fill, old.length * 2)));
    old.copy(grown, 0, 0, this.asmFill);
    this.asm = grown;
    return grown;
  }

  /** Consumes exactly `this.need` bytes at src[at..] and sets the next state. */
  private step(src: Buffer, at: number): void {
    switch (this.state) {
      case State.Header: {
        if (src[at] !== 0x46 || src[at + 1] !== 0x4c || src[at + 2] !== 0x56) {
          throw new FlvError('FLV: bad signature (not an FLV stream)');
        }
        const flags = src[at + 4]!;
        const dataOffset = src.readUInt32BE(at + 5);
        if (dataOffset < FLV_HEADER_SIZE || dataOffset > FLV_HEADER_SIZE + MAX_HEADER_EXTRA) {
          throw new FlvError(`FLV: bad header DataOffset ${dataOffset}`);
        }
        this.header = { version: src[at + 3]!, hasAudio: (flags & 4) !== 0, hasVideo: (flags & 1) !== 0 };
        this.state = State.SkipToFirstTag;
        this.need = dataOffset - FLV_HEADER_SIZE + 4; // extra header bytes + PreviousTagSize0
        return;
      }
      case State.SkipToFirstTag:
        this.state = State.TagHeader;
        this.need = FLV_TAG_HEADER_SIZE;
        return;
      case State.TagHeader: {
        const b0 = src[at]!;
        const type = b0 & 0x1f;
        if (b0 & 0xc0) throw new FlvError(`FLV: reserved bits set in tag header (0x${b0.toString(16)})`);
        if (b0 & 0x20) throw new FlvError('FLV: encrypted (filtered) tags are not supported');
        if (type !== FlvTagType.Audio && type !== FlvTagType.Video && type !== FlvTagType.Script) {
          throw new FlvError(`FLV: unknown tag type ${type}`);
        }
        const size = src.readUIntBE(at + 1, 3);
        if (size > this.maxTagSize) throw new FlvError(`FLV: tag of ${size} bytes exceeds limit ${this.maxTagSize}`);
        this.tagType = type;
        this.tagSize = size;
        this.tagTime = src.readUIntBE(at + 4, 3) + src[at + 7]! * 0x1000000;
        this.state = State.TagBody;
        this.need = size + 4; // body + PreviousTagSize (not checked: writers often get it wrong)
        return;
      }
      case State.TagBody:
        this.out.push({ type: this.tagType, timestamp: this.tagTime, body: src.subarray(at, at + this.tagSize) });
        this.state = State.TagHeader;
        this.need = FLV_TAG_HEADER_SIZE;
        return;
    }
  }
}
