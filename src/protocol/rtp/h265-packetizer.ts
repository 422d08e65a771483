/**
 * H.265 access units → RTP packets (RFC 7798, without DONL: sprop-max-don-diff
 * 0): parameter sets and other small non-VCL units aggregated in one
 * Aggregation Packet (type 48), NAL units that fit sent whole, larger ones
 * split into Fragmentation Units (type 49). The marker bit ends the access unit.
 */
import { RTP_HEADER_SIZE } from './rtp-packet.js';
import { NalPacketizer, type NalPacketizerOptions } from './nal-packetizer.js';

export const HEVC_NAL_AP = 48;
export const HEVC_NAL_FU = 49;

/** The NAL unit type of a 2-byte H.265 NAL unit header (RFC 7798 1.1.4). */
export function hevcNalType(b0: number): number {
  return (b0 >> 1) & 0x3f;
}

export class H265Packetizer extends NalPacketizer {
  constructor(o: NalPacketizerOptions) {
    super('H.265', o, 2);
  }

  /** VPS, SPS, PPS, AUD and SEI: small units worth one packet together. */
  protected isAggregatable(nal: Buffer): boolean {
    const t = hevcNalType(nal[0]!);
    return t >= 32 && t <= 40 && t !== 36 && t !== 37 && t !== 38;
  }

  /** RFC 7798 4.4.2: F is the OR of the units' F bits, LayerId and TID the lowest of theirs. */
  protected aggregate(nalus: readonly Buffer[], size: number, timestamp: number, marker: boolean): Buffer {
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
    NalPacketizer.writeAggregated(b, RTP_HEADER_SIZE + 2, nalus);
    return b;
  }

  /** RFC 7798 4.4.3: PayloadHdr keeps the unit's F, LayerId and TID with type 49; the FU header carries S, E and the type. */
  protected fragment(nal: Buffer, timestamp: number, lastNal: boolean, out: Buffer[]): void {
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

/** An IRAP picture (BLA, IDR, CRA: types 16..21), where a decoder may start. */
export function isHevcIrap(type: number): boolean {
  return type >= 16 && type <= 21;
}
