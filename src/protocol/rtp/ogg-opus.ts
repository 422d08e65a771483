/**
 * Ogg (RFC 3533) with Opus (RFC 7845): how Opus packets travel to and from an
 * FFmpeg process over a pipe. The writer makes the two header pages and one
 * page per packet (low latency); the reader returns each Opus packet with
 * the granule position of the page it ends on.
 */
import { RtpError } from './rtp-error.js';
import { opusPacketDuration } from '../../codec/opus.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

export function oggCrc(b: Buffer): number {
  let crc = 0;
  for (let i = 0; i < b.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b[i]!) & 0xff]!) >>> 0;
  return crc;
}

function buildOpusHead(channels: number, inputSampleRate: number, preSkip = 312): Buffer {
  const b = Buffer.alloc(19);
  b.write('OpusHead', 0, 'latin1');
  b[8] = 1;
  b[9] = channels;
  b.writeUInt16LE(preSkip, 10);
  b.writeUInt32LE(inputSampleRate, 12);
  return b;
}

export class OggOpusWriter {
  private seq = 0;
  private granule = 0n;
  private readonly serial: number;

  constructor(serial = 0x5349) {
    this.serial = serial;
  }

  /** The two header pages (OpusHead, OpusTags). */
  headers(channels: number, sampleRate = 48000): Buffer {
    const tags = Buffer.alloc(16);
    tags.write('OpusTags', 0, 'latin1');
    tags.writeUInt32LE(0, 8);
    tags.writeUInt32LE(0, 12);
    return Buffer.concat([this.page(buildOpusHead(channels, sampleRate, 0), 0x02, 0n), this.page(tags, 0, 0n)]);
  }

  /** One page holding one Opus packet of `samples` 48 kHz samples. */
  packet(opus: Buffer, samples: number): Buffer {
    this.granule += BigInt(samples);
    return this.page(opus, 0, this.granule);
  }

  private page(data: Buffer, flags: number, granule: bigint): Buffer {
    if (data.length > 255 * 255) throw new RtpError(`Ogg: packet of ${data.length} bytes is too large for one page`);
    const segs = Math.floor(data.length / 255) + 1;
    const b = Buffer.alloc(27 + segs + data.length);
    b.write('OggS', 0, 'latin1');
    b[5] = flags;
    b.writeBigUInt64LE(granule, 6);
    b.writeUInt32LE(this.serial, 14);
    b.writeUInt32LE(this.seq++, 18);
    b[26] = segs;
    for (let i = 0; i < segs - 1; i++) b[27 + i] = 255;
    b[27 + segs - 1] = data.length % 255;
    data.copy(b, 27 + segs);
    b.writeUInt32LE(oggCrc(b), 22);
    return b;
  }
}

export interface OggPacket {
  data: Buffer;
  /** Granule position of the page the packet ends on (-1 if none). */
  granule: number;
}

/** Incremental Ogg page reader: bytes in (any chunking), packets out. */
export class OggReader {
  private buf: Buffer = Buffer.alloc(0);
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Bounds one reassembled packet. */
  maxPacket = 1 << 20;

  push(chunk: Buffer): OggPacket[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: OggPacket[] = [];
    let off = 0;
    for (;;) {
      if (off + 27 > this.buf.length) break;
      if (this.buf.readUInt32BE(off) !== 0x4f676753) throw new RtpError(`Ogg: no capture pattern at offset ${off}`);
      const segs = this.buf[off + 26]!;
      if (off + 27 + segs > this.buf.length) break;
      let size = 0;
      for (let i = 0; i < segs; i++) size += this.buf[off + 27 + i]!;
      if (off + 27 + segs + size > this.buf.length) break;
      const granuleBig = this.buf.readBigInt64LE(off + 6);
      const granule = granuleBig < 0n ? -1 : Number(granuleBig);
      let p = off + 27 + segs;
      for (let i = 0; i < segs; i++) {
        const lace = this.buf[off + 27 + i]!;
        this.partial.push(this.buf.subarray(p, p + lace));
        this.partialBytes += lace;
        p += lace;
        if (this.partialBytes > this.maxPacket) throw new RtpError(`Ogg: packet exceeds ${this.maxPacket} bytes`);
        if (lace < 255) {
          out.push({ data: Buffer.concat(this.partial, this.partialBytes), granule });
          this.partial = [];
          this.partialBytes = 0;
        }
      }
      off = p;
    }
    this.buf = off < this.buf.length ? Buffer.from(this.buf.subarray(off)) : Buffer.alloc(0);
    // Keep the partial packet's bytes: they pointed into the old buffer.
    if (this.partial.length) this.partial = [Buffer.concat(this.partial, this.partialBytes)];
    return out;
  }
}

/** Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 3.1). */
export function opusPacketSamples(p: Buffer): number {
  if (p.length < 1) throw new RtpError('Opus: empty packet');
  if ((p[0]! & 3) === 3 && p.length < 2) throw new RtpError('Opus: code 3 packet without frame count');
  return opusPacketDuration(p);
}
