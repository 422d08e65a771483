/**
 * A light HTTP-FLV reader for the load generator (sans-IO): the HTTP
 * response head, chunked transfer decoding, then FLV tags whose bodies are
 * skipped unless their type is set to be assembled. Fed bytes are never
 * retained, so one read buffer can serve every socket.
 */
import { BenchError } from './bench-error.js';

/** Called per completed tag; `body` only for assembled types. Positional to allocate nothing. */
export type FlvTagHandler = (type: number, timestamp: number, size: number, body: Buffer | null) => void;

export interface FlvSkimmerOptions {
  /** Expect an HTTP response head before the FLV bytes (default true). */
  http?: boolean;
  /** Largest tag body assembled (default 4 MiB). */
  maxAssembled?: number;
}

const enum Http {
  Head,
  ChunkSize,
  ChunkData,
  ChunkCrlf,
  Identity,
  Done,
}

const enum Flv {
  FileHeader,
  TagHeader,
  Body,
}

const MAX_HEAD = 16 * 1024;
/** PreviousTagSize (4) + tag header (11): parsed as one unit. */
const UNIT = 15;

export class FlvSkimmer {
  /** Tag types to assemble (8 audio, 9 video, 18 script). */
  readonly assemble = new Uint8Array(256);
  /** HTTP status code once the head has arrived. */
  status = 0;
  private http: Http;
  private head = '';
  private chunkLeft = 0;
  private sizeLine = '';
  private crlfLeft = 0;
  private flv = Flv.FileHeader;
  private readonly stash = Buffer.allocUnsafe(UNIT);
  private stashLen = 0;
  private tagType = 0;
  private tagTime = 0;
  private tagSize = 0;
  private bodyLeft = 0;
  private body: Buffer | null = null;
  private readonly maxAssembled: number;

  constructor(opts: FlvSkimmerOptions = {}) {
    this.http = opts.http === false ? Http.Identity : Http.Head;
    this.maxAssembled = opts.maxAssembled ?? 4 * 1024 * 1024;
  }

  /** The HTTP body ended (a zero-size chunk). */
  get ended(): boolean {
    return this.http === Http.Done;
  }

  feed(buf: Buffer, onTag: FlvTagHandler, off = 0, end = buf.length): void {
    while (off < end) {
      switch (this.http) {
        case Http.Head: {
          const before = this.head.length;
          this.head += buf.toString('latin1', off, Math.min(end, off + MAX_HEAD));
          const at = this.head.indexOf('\r\n\r\n');
          if (at < 0) {
            if (this.head.length >= MAX_HEAD) throw new BenchError('HTTP response head too large');
            return;
          }
          off += at + 4 - before;
          this.parseHead(this.head.slice(0, at));
          this.head = '';
          break;
        }
        case Http.ChunkSize: {
          const nl = buf.indexOf(10, off);
          const stop = nl < 0 || nl >= end ? end : nl;
          this.sizeLine += buf.toString('latin1', off, stop);
          if (this.sizeLine.length > 64) throw new BenchError('HTTP chunk size line too long');
          if (stop === end) return;
          off = stop + 1;
          const hex = this.sizeLine.split(';')[0].trim();
          this.sizeLine = '';
          if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new BenchError(`bad HTTP chunk size "${hex}"`);
          this.chunkLeft = parseInt(hex, 16);
          this.http = this.chunkLeft === 0 ? Http.Done : Http.ChunkData;
          break;
        }
        case Http.ChunkData: {
          const n = Math.min(this.chunkLeft, end - off);
          this.flvFeed(buf, off, off + n, onTag);
          off += n;
          this.chunkLeft -= n;
          if (this.chunkLeft === 0) {
            this.http = Http.ChunkCrlf;
            this.crlfLeft = 2;
          }
          break;
        }
        case Http.ChunkCrlf: {
          const n = Math.min(this.crlfLeft, end - off);
          off += n;
          this.crlfLeft -= n;
          if (this.crlfLeft === 0) this.http = Http.ChunkSize;
          break;
        }
        case Http.Identity:
          this.flvFeed(buf, off, end, onTag);
          return;
        case Http.Done:
          return;
      }
    }
  }

  private parseHead(head: string): void {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) throw new BenchError(`not an HTTP response: "${lines[0].slice(0, 80)}"`);
    this.status = Number(m[1]);
    if (this.status !== 200) throw new BenchError(`HTTP status ${this.status}`);
    const chunked = lines.some((l) => /^transfer-encoding:\s*chunked/i.test(l));
    this.http = chunked ? Http.ChunkSize : Http.Identity;
  }

  private flvFeed(buf: Buffer, off: number, end: number, onTag: FlvTagHandler): void {
    while (off < end) {
      if (this.flv === Flv.Body) {
        const n = Math.min(this.bodyLeft, end - off);
        if (this.body) buf.copy(this.body, this.tagSize - this.bodyLeft, off, off + n);
        this.bodyLeft -= n;
        off += n;
        if (this.bodyLeft === 0) this.finishTag(onTag);
        continue;
      }
      // File header (9 bytes, parsed as the first unit's prefix) or a tag unit.
      const need = this.flv === Flv.FileHeader ? 9 : UNIT;
      let unit: Buffer;
      let at: number;
      if (this.stashLen > 0 || end - off < need) {
        const take = Math.min(need - this.stashLen, end - off);
        buf.copy(this.stash, this.stashLen, off, off + take);
        this.stashLen += take;
        off += take;
        if (this.stashLen < need) return;
        unit = this.stash;
        at = 0;
        this.stashLen = 0;
      } else {
        unit = buf;
        at = off;
        off += need;
      }
      if (this.flv === Flv.FileHeader) {
        if (unit[at] !== 0x46 || unit[at + 1] !== 0x4c || unit[at + 2] !== 0x56) throw new BenchError('not an FLV stream');
        if (unit.readUInt32BE(at + 5) !== 9) throw new BenchError('unsupported FLV header size');
        this.flv = Flv.TagHeader;
        continue;
      }
      this.tagType = unit[at + 4] & 0x1f;
      this.tagSize = (unit[at + 5] << 16) | (unit[at + 6] << 8) | unit[at + 7];
      this.tagTime = ((unit[at + 11] << 24) | (unit[at + 8] << 16) | (unit[at + 9] << 8) | unit[at + 10]) >>> 0;
      this.bodyLeft = this.tagSize;
      this.body = null;
      if (this.assemble[this.tagType] === 1) {
        if (this.tagSize > this.maxAssembled) throw new BenchError(`FLV tag of ${this.tagSize} bytes exceeds the ${this.maxAssembled}-byte limit`);
        this.body = Buffer.allocUnsafe(this.tagSize);
      }
      this.flv = Flv.Body;
      if (this.bodyLeft === 0) this.finishTag(onTag);
    }
  }

  private finishTag(onTag: FlvTagHandler): void {
    const body = this.body;
    this.body = null;
    this.flv = Flv.TagHeader;
    onTag(this.tagType, this.tagTime, this.tagSize, body);
  }
}
