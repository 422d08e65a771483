/**
 * Does this RTP payload start a keyframe? The SFU lets a new player in only
 * there (everything before would not decode). One check per codec's RTP
 * payload format: H.264 (RFC 6184), VP8 (RFC 7741), VP9 (RFC 9628), AV1
 * (AV1 RTP spec 4.4).
 */
import { NAL_FU_A, NAL_STAP_A } from './h264-packetizer.js';
import { HEVC_NAL_AP, HEVC_NAL_FU, hevcNalType, isHevcIrap } from './h265-packetizer.js';

export type RtpVideoCodec = 'H264' | 'H265' | 'VP8' | 'VP9' | 'AV1';

export function startsKeyframe(codec: RtpVideoCodec, p: Buffer): boolean {
  switch (codec) {
    case 'H264':
      return h264StartsKeyframe(p);
    case 'H265':
      return h265StartsKeyframe(p);
    case 'VP8':
      return vp8StartsKeyframe(p);
    case 'VP9':
      return p.length >= 1 && (p[0]! & 0x08) !== 0 && (p[0]! & 0x40) === 0;
    case 'AV1':
      return p.length >= 1 && (p[0]! & 0x08) !== 0;
  }
}

/** An IDR slice or an SPS alone, in a STAP-A, or at the start of an FU-A. */
export function h264StartsKeyframe(p: Buffer): boolean {
  if (p.length < 1) return false;
  const type = p[0]! & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === NAL_STAP_A) {
    let off = 1;
    while (off + 3 <= p.length) {
      const len = p.readUInt16BE(off);
      const t = p[off + 2]! & 0x1f;
      if (t === 5 || t === 7) return true;
      off += 2 + len;
    }
    return false;
  }
  if (type === NAL_FU_A) return p.length >= 2 && (p[1]! & 0x80) !== 0 && (p[1]! & 0x1f) === 5;
  return false;
}

/** RFC 7798: an IRAP slice or a VPS alone, in an Aggregation Packet, or at the start of a Fragmentation Unit. */
function h265StartsKeyframe(p: Buffer): boolean {
  if (p.length < 3) return false;
  const type = hevcNalType(p[0]!);
  if (isHevcIrap(type) || type === 32) return true;
  if (type === HEVC_NAL_AP) {
    for (let off = 2; off + 3 <= p.length; off += 2 + p.readUInt16BE(off)) {
      const t = hevcNalType(p[off + 2]!);
      if (isHevcIrap(t) || t === 32) return true;
    }
    return false;
  }
  return type === HEVC_NAL_FU && (p[2]! & 0x80) !== 0 && isHevcIrap(p[2]! & 0x3f);
}

function vp8StartsKeyframe(p: Buffer): boolean {
  if (p.length < 1) return false;
  const b0 = p[0]!;
  if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return false; // S=1, PID=0
  let off = 1;
  if (b0 & 0x80) {
    if (off >= p.length) return false;
    const x = p[off++]!;
    if (x & 0x80) {
      if (off >= p.length) return false;
      off += p[off]! & 0x80 ? 2 : 1;
    }
    if (x & 0x40) off++;
    if (x & 0x30) off++;
  }
  return off < p.length && (p[off]! & 0x01) === 0;
}
