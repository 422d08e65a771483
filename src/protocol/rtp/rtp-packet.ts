/**
 * RTP fixed header (RFC 3550 5.1) read and rewritten in place. Parsing fills
 * a caller-owned object so that the per-packet hot path allocates nothing.
 */
import { RtpError } from './rtp-error.js';

export const RTP_HEADER_SIZE = 12;

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Where the payload starts (after CSRCs and the header extension). */
  payloadOffset: number;
  /** Where the payload ends (before padding). */
  payloadEnd: number;
}

export function newRtpHeader(): RtpHeader {
  return { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, payloadOffset: 0, payloadEnd: 0 };
}

/**
 * RFC 5761 4: with rtcp-mux, RTCP packet types 192..223 sit where RTP payload
 * types 64..95 would (marker bit included), so those are RTCP.
 */
export function isRtcp(buf: Buffer): boolean {
  return buf.length >= 2 && buf[1]! >= 192 && buf[1]! <= 223;
}

/** Parses the RTP header of `buf` into `out` (also returned). Throws RtpError. */
export function parseRtpHeader(buf: Buffer, out: RtpHeader = newRtpHeader()): RtpHeader {
  if (buf.length < RTP_HEADER_SIZE) throw new RtpError(`RTP: ${buf.length} bytes, need at least 12`);
  const b0 = buf[0]!;
  if (b0 >>> 6 !== 2) throw new RtpError(`RTP: version ${b0 >>> 6}, expected 2`);
  const b1 = buf[1]!;
  let off = RTP_HEADER_SIZE + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (off + 4 > buf.length) throw new RtpError('RTP: header extension truncated');
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  let end = buf.length;
  if (b0 & 0x20) {
    const pad = buf[end - 1]!;
    if (pad === 0) throw new RtpError('RTP: zero padding length');
    end -= pad;
  }
  if (off > end) throw new RtpError(`RTP: header of ${off} bytes overruns a ${buf.length}-byte packet`);
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = b1 & 0x7f;
  out.sequence = buf.readUInt16BE(2);
  out.timestamp = buf.readUInt32BE(4);
  out.ssrc = buf.readUInt32BE(8);
  out.payloadOffset = off;
  out.payloadEnd = end;
  return out;
}

/** Writes a 12-byte RTP header (no CSRC, no extension) at offset 0 of `out`. */
export function writeRtpHeader(out: Buffer, payloadType: number, sequence: number, timestamp: number, ssrc: number, marker: boolean): void {
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  out.writeUInt16BE(sequence & 0xffff, 2);
  out.writeUInt32BE(timestamp >>> 0, 4);
  out.writeUInt32BE(ssrc >>> 0, 8);
}

/** Rewrites payload type, sequence, timestamp and SSRC of a packet in place (the SFU's per-player step). */
export function rewriteRtp(buf: Buffer, payloadType: number, sequence: number, timestamp: number, ssrc: number): void {
  buf[1] = (buf[1]! & 0x80) | (payloadType & 0x7f);
  buf.writeUInt16BE(sequence & 0xffff, 2);
  buf.writeUInt32BE(timestamp >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
}

/** Signed distance b - a between two 16-bit sequence numbers (RFC 1982 style). */
export function seqDelta(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}
