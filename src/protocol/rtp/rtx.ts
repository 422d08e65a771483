/**
 * RTP retransmission payload format (RFC 4588 §4): a lost packet resent on
 * its own SSRC and payload type, with the original sequence number (OSN) in
 * the first two payload bytes. The header keeps the original's timestamp,
 * marker, CSRCs and header extension; the sequence is the RTX stream's own.
 * Padding is dropped on both sides (an RTX packet's padding is its own).
 */
import { RtpError } from './rtp-error.js';
import type { RtpHeader } from './rtp-packet.js';

/** Wraps `orig` (parsed as `h`) into a new RTX packet. */
export function buildRtx(orig: Buffer, h: RtpHeader, rtxPt: number, rtxSeq: number, rtxSsrc: number): Buffer {
  const hl = h.payloadOffset;
  const out = Buffer.allocUnsafe(hl + 2 + (h.payloadEnd - hl));
  orig.copy(out, 0, 0, hl);
  out[0] = out[0]! & ~0x20;
  out[1] = (out[1]! & 0x80) | (rtxPt & 0x7f);
  out.writeUInt16BE(rtxSeq & 0xffff, 2);
  out.writeUInt32BE(rtxSsrc >>> 0, 8);
  out.writeUInt16BE(h.sequence, hl);
  orig.copy(out, hl + 2, hl, h.payloadEnd);
  return out;
}

/**
 * The original packet inside an RTX packet (parsed as `h`): the media payload
 * type and SSRC restored, the OSN as the sequence. Null for an RTX packet
 * with no OSN (padding only: the sender's bandwidth probes).
 */
export function unwrapRtx(rtx: Buffer, h: RtpHeader, mediaPt: number, mediaSsrc: number): Buffer | null {
  const hl = h.payloadOffset;
  if (h.payloadEnd - hl < 2) return null;
  if (h.payloadEnd > rtx.length) throw new RtpError('RTX: payload end beyond the packet');
  const out = Buffer.allocUnsafe(h.payloadEnd - 2);
  rtx.copy(out, 0, 0, hl);
  out[0] = out[0]! & ~0x20;
  out[1] = (out[1]! & 0x80) | (mediaPt & 0x7f);
  out.writeUInt16BE(rtx.readUInt16BE(hl), 2);
  out.writeUInt32BE(mediaSsrc >>> 0, 8);
  rtx.copy(out, hl, hl + 2, h.payloadEnd);
  return out;
}
