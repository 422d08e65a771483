/**
 * One port carries STUN, DTLS, SRTP and SRTCP: RFC 7983 tells them apart by
 * the first byte. Also RFC 4571 framing (a 2-byte length before each packet)
 * for WebRTC over TCP.
 */
import { RtpError } from './rtp-error.js';
import { looksLikeStun } from '../stun/stun-message.js';

export type PacketClass = 'stun' | 'dtls' | 'rtp' | 'rtcp' | 'unknown';

export function classifyPacket(b: Buffer): PacketClass {
  if (b.length === 0) return 'unknown';
  const f = b[0]!;
  if (f <= 3) return looksLikeStun(b) ? 'stun' : 'unknown';
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
