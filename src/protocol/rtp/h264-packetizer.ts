/**
 * H.264 access units → RTP packets (RFC 6184, packetization-mode 1):
 * parameter sets aggregated in one STAP-A, NAL units that fit sent whole,
 * larger ones split into FU-A fragments. The marker bit ends the access unit.
 */
import { RTP_HEADER_SIZE } from './rtp-packet.js';
import { NalPacketizer, type NalPacketizerOptions } from './nal-packetizer.js';
import { RtpError } from './rtp-error.js';

export const NAL_STAP_A = 24;
export const NAL_FU_A = 28;

export class H264Packetizer extends NalPacketizer {
  constructor(o: NalPacketizerOptions) {
    super('H.264', o, 1);
  }

  protected isAggregatable(nal: Buffer): boolean {
    const t = nal[0]! & 0x1f;
    return t === 6 || t === 7 || t === 8 || t === 9;
  }

  /** STAP-A: NRI the highest of the units'. */
  protected aggregate(nalus: readonly Buffer[], size: number, timestamp: number, marker: boolean): Buffer {
    const b = this.header(size, timestamp, marker);
    let nri = 0;
    for (const n of nalus) nri = Math.max(nri, n[0]! & 0x60);
    b[RTP_HEADER_SIZE] = nri | NAL_STAP_A;
    NalPacketizer.writeAggregated(b, RTP_HEADER_SIZE + 1, nalus);
    return b;
  }

  /** FU-A: the indicator keeps the unit's F and NRI; the FU header carries S, E and the type. */
  protected fragment(nal: Buffer, timestamp: number, lastNal: boolean, out: Buffer[]): void {
    const header = nal[0]!;
    const indicator = (header & 0xe0) | NAL_FU_A;
    const type = header & 0x1f;
    const chunk = this.maxPayload - 2;
    for (let off = 1; off < nal.length; off += chunk) {
      const end = Math.min(nal.length, off + chunk);
      const first = off === 1;
      const last = end === nal.length;
      const b = this.header(2 + (end - off), timestamp, last && lastNal);
      b[RTP_HEADER_SIZE] = indicator;
      b[RTP_HEADER_SIZE + 1] = (first ? 0x80 : 0) | (last ? 0x40 : 0) | type;
      nal.copy(b, RTP_HEADER_SIZE + 2, off, end);
      out.push(b);
    }
  }
}

/**
 * The NAL units of an AVCC access unit as WebRTC wants them: no access unit
 * delimiters, optionally no SEI, and SPS/PPS in front of every IDR that lacks
 * them (a browser joining at any keyframe can decode it).
 */
export function webrtcNalus(avcc: Buffer, sps: readonly Buffer[], pps: readonly Buffer[], keepSei: boolean): Buffer[] {
  const out: Buffer[] = [];
  let hasIdr = false;
  let hasSps = false;
  let off = 0;
  while (off + 4 <= avcc.length) {
    const len = avcc.readUInt32BE(off);
    off += 4;
    if (len === 0) continue;
    if (off + len > avcc.length) throw new RtpError(`H.264: NAL unit of ${len} bytes overruns the ${avcc.length}-byte frame`);
    const nal = avcc.subarray(off, off + len);
    off += len;
    const t = nal[0]! & 0x1f;
    if (t === 9) continue;
    if (t === 6 && !keepSei) continue;
    if (t === 5) hasIdr = true;
    if (t === 7) hasSps = true;
    out.push(nal);
  }
  if (off !== avcc.length) throw new RtpError(`H.264: ${avcc.length - off} trailing bytes after the last NAL unit`);
  if (hasIdr && !hasSps && sps.length > 0) out.unshift(...sps, ...pps);
  return out;
}

/**
 * slice_type of a slice NAL unit (H.264 7.3.3), 0..9, or -1 when it is not a
 * slice or the header is unreadable. Used to spot B slices (1 and 6).
 */
export function h264SliceType(nal: Buffer): number {
  const t = nal[0]! & 0x1f;
  if (t !== 1 && t !== 5) return -1;
  let bit = 8;
  const readUe = (): number => {
    let zeros = 0;
    while (bit < nal.length * 8 && ((nal[bit >> 3]! >> (7 - (bit & 7))) & 1) === 0) {
      zeros++;
      bit++;
      if (zeros > 31) return -1;
    }
    bit++;
    let v = 0;
    for (let i = 0; i < zeros; i++, bit++) {
      if (bit >= nal.length * 8) return -1;
      v = v * 2 + ((nal[bit >> 3]! >> (7 - (bit & 7))) & 1);
    }
    return bit > nal.length * 8 ? -1 : (1 << zeros) - 1 + v;
  };
  if (readUe() < 0) return -1;
  return readUe();
}

/** True for an access unit that nothing else references and is a B picture: safe to drop. */
export function isDroppableBFrame(nalus: readonly Buffer[]): boolean {
  let sawSlice = false;
  for (const n of nalus) {
    const st = h264SliceType(n);
    if (st < 0) continue;
    sawSlice = true;
    if (st % 5 !== 1 || (n[0]! & 0x60) !== 0) return false;
  }
  return sawSlice;
}
