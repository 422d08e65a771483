/**
 * One port carries STUN, DTLS, SRTP and SRTCP: RFC 7983 tells them apart by
 * the first byte. Also RFC 4571 framing (a 2-byte length before each packet)
 * for WebRTC over TCP.
 */
import { RtpError } from './rtp-error.js';

export type PacketClass = 'stun' | 'dtls' | 'rtp' | 'rtcp' | 'unknown';

const STUN_MAGIC = 0x2112a442;

export function classifyPacket(b: Buffer): PacketClass {
  if (b.length === 0) return 'unknown';
  const f = b[0]!;
  if (f <= 3) return b.length >= 20 && b.readUInt32BE(4) === STUN_MAGIC && (b.readUInt16BE(2) & 3) === 0 && b.readUInt16BE(2) + 20 === b.length ? 'stun' : 'unknown';
  if (f >= 20 && f <= 63) return b.length >= 13 ? 'dtls' : 'unknown';
  if (f >= 128 && f <= 191) {
    if (b.length < 12) return 'unknown';
    return b[1]! >= 192 && b[1]! <= 223 ? 'rtcp' : 'rtp';
  }
  return 'unknown';
}

/** A STUN Binding Request (type 0x0001): what must open every WebRTC-over-TCP connection. */
export function isStunBindingRequest(b: Buffer): boolean {
  return classifyPacket(b) === 'stun' && b.readUInt16BE(0) === 0x0001;
}

/** The USERNAME attribute (0x0006) of a STUN message, or null. */
export function stunUsername(b: Buffer): string | null {
  if (classifyPacket(b) !== 'stun') return null;
  let off = 20;
  while (off + 4 <= b.length) {
    const type = b.readUInt16BE(off);
    const len = b.readUInt16BE(off + 2);
    if (off + 4 + len > b.length) return null;
    if (type === 0x0006) return b.toString('utf8', off + 4, off + 4 + len);
    off += 4 + ((len + 3) & ~3);
  }
  return null;
}

/** RFC 4571 deframer for one TCP connection: bytes in, packets out. */
export class Rfc4571Deframer {
  private pending: Buffer = Buffer.alloc(0);

  /** Returns the complete packets in the bytes received so far. */
  push(chunk: Buffer): Buffer[] {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let off = 0;
    while (off + 2 <= data.length) {
      const len = data.readUInt16BE(off);
      if (len === 0) throw new RtpError('RFC 4571: zero-length frame');
      if (off + 2 + len > data.length) break;
      out.push(data.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
    // At most one partial frame (< 64 KiB + 2) is ever kept.
    this.pending = off < data.length ? Buffer.from(data.subarray(off)) : Buffer.alloc(0);
    return out;
  }
}

export function frameRfc4571(packet: Buffer): Buffer {
  if (packet.length > 0xffff) throw new RtpError(`RFC 4571: packet of ${packet.length} bytes does not fit a frame`);
  const b = Buffer.allocUnsafe(2 + packet.length);
  b.writeUInt16BE(packet.length, 0);
  packet.copy(b, 2);
  return b;
}
