/**
 * H.265 access units → RTP packets (RFC 7798, without DONL: sprop-max-don-diff
 * 0): parameter sets and other small non-VCL units aggregated in one
 * Aggregation Packet (type 48), NAL units that fit sent whole, larger ones
 * split into Fragmentation Units (type 49). The marker bit ends the access unit.
 */
import { writeRtpHeader, RTP_HEADER_SIZE } from './rtp-packet.js';
import { RtpError } from './rtp-error.js';

export const HEVC_NAL_AP = 48;
export const HEVC_NAL_FU = 49;

/** The NAL unit type of a 2-byte H.265 NAL unit header (RFC 7798 1.1.4). */
export function hevcNalType(b0: number): number {
  return (b0 >> 1) & 0x3f;
}

export interface H265PacketizerOptions {
  ssrc: number;
  payloadType: number;
  /** Largest RTP payload (bytes). */
  maxPayload?: number;
  initialSequence?: number;
}

export class H265Packetizer {
  sequence: number;
  readonly ssrc: number;
  readonly payloadType: number;
  readonly maxPayload: number;

  constructor(o: H265PacketizerOptions) {
    this.ssrc = o.ssrc;
    this.payloadType = o.payloadType;
    this.maxPayload = o.maxPayload ?? 1200;
    if (this.maxPayload < 16) throw new RtpError(`H.265 packetizer: maxPayload ${this.maxPayload} is too small`);
    this.sequence = o.initialSequence ?? Math.floor(Math.random() * 0x10000);
  }

  /** Packetizes one access unit given as NAL units (2-byte header first, no start codes or length prefixes). */
  packetize(nalus: readonly Buffer[], timestamp: number): Buffer[] {
    const out: Buffer[] = [];
    const units = nalus.filter((n) => n.length >= 2);
    for (let i = 0; i < units.length; i++) {
      let j = i;
      let size = 2;
      while (j < units.length && isAggregatable(units[j]!) && size + 2 + units[j]!.length <= this.maxPayload) {
        size += 2 + units[j]!.length;
        j++;
      }
      if (j - i >= 2) {
        out.push(this.ap(units.slice(i, j), size, timestamp, j === units.length));
        i = j - 1;
        continue;
      }
      const nal = units[i]!;
      const last = i === units.length - 1;
      if (nal.length <= this.maxPayload) out.push(this.packet(nal, timestamp, last));
      else this.fu(nal, timestamp, last, out);
    }
    return out;
  }

  private header(len: number, timestamp: number, marker: boolean): Buffer {
    const b = Buffer.allocUnsafe(RTP_HEADER_SIZE + len);
    writeRtpHeader(b, this.payloadType, this.sequence, timestamp, this.ssrc, marker);
    this.sequence = (this.sequence + 1) & 0xffff;
    return b;
  }

  private packet(nal: Buffer, timestamp: number, marker: boolean): Buffer {
    const b = this.header(nal.length, timestamp, marker);
    nal.copy(b, RTP_HEADER_SIZE);
    return b;
  }

  /** RFC 7798 4.4.2: F is the OR of the units' F bits, LayerId and TID the lowest of theirs. */
  private ap(nalus: readonly Buffer[], size: number, timestamp: number, marker: boolean): Buffer {
    const b = this.header(size, timestamp, marker);
    let f = 0;
    let layer = 63;
    let tid = 7;
    for (const n of nalus) {
      f |= n[0]! & 0x80;
      layer = Math.min(layer, ((n[0]! & 0x01) << 5) | (n[1]! >> 3));
      tid = Math.min(tid, n[1]! & 0x07);
    }
    b[RTP_HEADER_SIZE] = f | (HEVC_NAL_AP << 1) | (layer >> 5);
    b[RTP_HEADER_SIZE + 1] = ((layer & 0x1f) << 3) | tid;
    let off = RTP_HEADER_SIZE + 2;
    for (const n of nalus) {
      b.writeUInt16BE(n.length, off);
      n.copy(b, off + 2);
      off += 2 + n.length;
    }
    return b;
  }

  /** RFC 7798 4.4.3: PayloadHdr keeps the unit's F, LayerId and TID with type 49; the FU header carries S, E and the type. */
  private fu(nal: Buffer, timestamp: number, lastNal: boolean, out: Buffer[]): void {
    const type = hevcNalType(nal[0]!);
    const h0 = (nal[0]! & 0x81) | (HEVC_NAL_FU << 1);
    const h1 = nal[1]!;
    const chunk = this.maxPayload - 3;
    for (let off = 2; off < nal.length; off += chunk) {
      const end = Math.min(nal.length, off + chunk);
      const first = off === 2;
      const last = end === nal.length;
      const b = this.header(3 + (end - off), timestamp, last && lastNal);
      b[RTP_HEADER_SIZE] = h0;
      b[RTP_HEADER_SIZE + 1] = h1;
      b[RTP_HEADER_SIZE + 2] = (first ? 0x80 : 0) | (last ? 0x40 : 0) | type;
      nal.copy(b, RTP_HEADER_SIZE + 3, off, end);
      out.push(b);
    }
  }
}

/** VPS, SPS, PPS, AUD and SEI: small units worth one packet together. */
function isAggregatable(nal: Buffer): boolean {
  const t = hevcNalType(nal[0]!);
  return t >= 32 && t <= 40 && t !== 36 && t !== 37 && t !== 38;
}

/** An IRAP picture (BLA, IDR, CRA: types 16..21), where a decoder may start. */
export function isHevcIrap(type: number): boolean {
  return type >= 16 && type <= 21;
}
