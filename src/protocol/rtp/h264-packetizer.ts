/**
 * H.264 access units → RTP packets (RFC 6184, packetization-mode 1):
 * parameter sets aggregated in one STAP-A, NAL units that fit sent whole,
 * larger ones split into FU-A fragments. The marker bit ends the access unit.
 */
import { writeRtpHeader, RTP_HEADER_SIZE } from './rtp-packet.js';
import { RtpError } from './rtp-error.js';

export const NAL_STAP_A = 24;
export const NAL_FU_A = 28;

export interface H264PacketizerOptions {
  ssrc: number;
  payloadType: number;
  /** Largest RTP payload (bytes); 1200 keeps SRTP + UDP + IP under common MTUs. */
  maxPayload?: number;
  /** First sequence number (random by default, RFC 3550 5.1). */
  initialSequence?: number;
}

export class H264Packetizer {
  sequence: number;
  readonly ssrc: number;
  readonly payloadType: number;
  readonly maxPayload: number;

  constructor(o: H264PacketizerOptions) {
    this.ssrc = o.ssrc;
    this.payloadType = o.payloadType;
    this.maxPayload = o.maxPayload ?? 1200;
    if (this.maxPayload < 16) throw new RtpError(`H.264 packetizer: maxPayload ${this.maxPayload} is too small`);
    this.sequence = o.initialSequence ?? Math.floor(Math.random() * 0x10000);
  }

  /** Packetizes one access unit given as NAL units (without start codes or length prefixes). */
  packetize(nalus: readonly Buffer[], timestamp: number): Buffer[] {
    const out: Buffer[] = [];
    const units = nalus.filter((n) => n.length > 0);
    for (let i = 0; i < units.length; i++) {
      const nal = units[i]!;
      // Aggregate a run of small NAL units (parameter sets, SEI) that fits one packet.
      let j = i;
      let size = 1;
      while (j < units.length && units[j]!.length <= this.maxPayload && size + 2 + units[j]!.length <= this.maxPayload && isAggregatable(units[j]!)) {
        size += 2 + units[j]!.length;
        j++;
      }
      if (j - i >= 2) {
        out.push(this.stapA(units.slice(i, j), size, timestamp, j === units.length));
        i = j - 1;
        continue;
      }
      const last = i === units.length - 1;
      if (nal.length <= this.maxPayload) out.push(this.packet(nal, timestamp, last));
      else this.fuA(nal, timestamp, last, out);
    }
    return out;
  }

  private packet(payload: Buffer, timestamp: number, marker: boolean): Buffer {
    const b = Buffer.allocUnsafe(RTP_HEADER_SIZE + payload.length);
    writeRtpHeader(b, this.payloadType, this.sequence, timestamp, this.ssrc, marker);
    this.sequence = (this.sequence + 1) & 0xffff;
    payload.copy(b, RTP_HEADER_SIZE);
    return b;
  }

  private stapA(nalus: readonly Buffer[], size: number, timestamp: number, marker: boolean): Buffer {
    const b = Buffer.allocUnsafe(RTP_HEADER_SIZE + size);
    writeRtpHeader(b, this.payloadType, this.sequence, timestamp, this.ssrc, marker);
    this.sequence = (this.sequence + 1) & 0xffff;
    let nri = 0;
    for (const n of nalus) nri = Math.max(nri, n[0]! & 0x60);
    b[RTP_HEADER_SIZE] = nri | NAL_STAP_A;
    let off = RTP_HEADER_SIZE + 1;
    for (const n of nalus) {
      b.writeUInt16BE(n.length, off);
      n.copy(b, off + 2);
      off += 2 + n.length;
    }
    return b;
  }

  private fuA(nal: Buffer, timestamp: number, lastNal: boolean, out: Buffer[]): void {
    const header = nal[0]!;
    const indicator = (header & 0xe0) | NAL_FU_A;
    const type = header & 0x1f;
    const chunk = this.maxPayload - 2;
    for (let off = 1; off < nal.length; off += chunk) {
      const end = Math.min(nal.length, off + chunk);
      const first = off === 1;
      const last = end === nal.length;
      const b = Buffer.allocUnsafe(RTP_HEADER_SIZE + 2 + (end - off));
      writeRtpHeader(b, this.payloadType, this.sequence, timestamp, this.ssrc, last && lastNal);
      this.sequence = (this.sequence + 1) & 0xffff;
      b[RTP_HEADER_SIZE] = indicator;
      b[RTP_HEADER_SIZE + 1] = (first ? 0x80 : 0) | (last ? 0x40 : 0) | type;
      nal.copy(b, RTP_HEADER_SIZE + 2, off, end);
      out.push(b);
    }
  }
}

function isAggregatable(nal: Buffer): boolean {
  const t = nal[0]! & 0x1f;
  return t === 6 || t === 7 || t === 8 || t === 9;
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
