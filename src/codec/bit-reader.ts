/**
 * MSB-first bit reader over a Buffer range, with the exp-Golomb codes used by
 * H.264/H.265 parameter sets. Reading past the end throws CodecError (never
 * returns garbage), so every parser built on it fails cleanly on short input.
 */
import { CodecError } from './codec-error.js';

export class BitReader {
  private pos: number; // absolute bit position
  private readonly endBit: number;

  constructor(
    private readonly buf: Buffer,
    byteOffset = 0,
    byteEnd = buf.length,
  ) {
    if (byteOffset < 0 || byteEnd > buf.length || byteOffset > byteEnd) {
      throw new CodecError(`BitReader: bad range ${byteOffset}..${byteEnd} of ${buf.length} bytes`);
    }
    this.pos = byteOffset * 8;
    this.endBit = byteEnd * 8;
  }

  /** Bits not yet read. */
  get bitsLeft(): number {
    return this.endBit - this.pos;
  }

  /** Absolute bit position in the buffer. */
  get bitPosition(): number {
    return this.pos;
  }

  get byteAligned(): boolean {
    return (this.pos & 7) === 0;
  }

  private need(n: number): void {
    if (this.pos + n > this.endBit) {
      throw new CodecError(`BitReader: read of ${n} bit(s) past end (${this.bitsLeft} left)`);
    }
  }

  readBit(): number {
    this.need(1);
    const p = this.pos++;
    return (this.buf[p >>> 3]! >>> (7 - (p & 7))) & 1;
  }

  readFlag(): boolean {
    return this.readBit() === 1;
  }

  /** Reads n (0..32) bits as an unsigned number. */
  readBits(n: number): number {
    if (n < 0 || n > 32 || !Number.isInteger(n)) throw new CodecError(`BitReader: cannot read ${n} bits at once`);
    this.need(n);
    let v = 0;
    // Byte-at-a-time when aligned keeps SPS parsing cheap; arithmetic (not <<) keeps 32-bit values unsigned.
    while (n > 0) {
      const p = this.pos;
      const bitInByte = p & 7;
      const avail = 8 - bitInByte;
      const take = avail < n ? avail : n;
      const byte = this.buf[p >>> 3]!;
      const bits = (byte >>> (avail - take)) & ((1 << take) - 1);
      v = v * (1 << take) + bits;
      this.pos += take;
      n -= take;
    }
    return v;
  }

  skipBits(n: number): void {
    if (n < 0) throw new CodecError(`BitReader: cannot skip ${n} bits`);
    this.need(n);
    this.pos += n;
  }

  /** Skips to the next byte boundary. */
  alignToByte(): void {
    this.pos = Math.min(this.endBit, (this.pos + 7) & ~7);
  }

  /** Unsigned exp-Golomb ue(v); codes longer than 32 bits are rejected as corrupt. */
  readUE(): number {
    let zeros = 0;
    while (this.readBit() === 0) {
      if (++zeros > 31) throw new CodecError('BitReader: exp-Golomb code longer than 32 bits');
    }
    if (zeros === 0) return 0;
    return 2 ** zeros - 1 + this.readBits(zeros);
  }

  /** Signed exp-Golomb se(v). */
  readSE(): number {
    const k = this.readUE();
    if (k === 0) return 0;
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/**
 * Removes emulation-prevention bytes (the 0x03 in 00 00 03) from a NAL unit,
 * giving its RBSP. Returns the input itself (no copy) when there are none,
 * which is the common case for parameter sets.
 */
export function nalToRbsp(nal: Buffer): Buffer {
  const len = nal.length;
  let first = -1;
  for (let i = 2; i < len; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return nal;
  const out = Buffer.allocUnsafe(len);
  nal.copy(out, 0, 0, first);
  let o = first;
  let zeros = 0;
  for (let i = first + 1; i < len; i++) {
    const b = nal[i]!;
    if (b === 3 && zeros >= 2) {
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}
