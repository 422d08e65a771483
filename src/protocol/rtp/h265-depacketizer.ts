/**
 * RTP payloads (in order, from the jitter buffer) → H.265 access units
 * (RFC 7798 without DONL: single NAL unit, Aggregation Packet, Fragmentation
 * Unit; PACI is refused). Cutting access units and dropping them after a loss
 * until the next IRAP picture is the shared AccessUnitAssembler's.
 */
import { RtpError } from './rtp-error.js';
import { HEVC_NAL_AP, HEVC_NAL_FU, hevcNalType, isHevcIrap } from './h265-packetizer.js';
import { AccessUnitAssembler, type AccessUnit, type AccessUnitLimits } from './access-unit-assembler.js';

/** An H.265 access unit; `keyframe`: contains an IRAP slice (IDR, CRA, BLA). */
export type H265AccessUnit = AccessUnit;

export class H265Depacketizer {
  private readonly au: AccessUnitAssembler;

  constructor(limits: AccessUnitLimits = {}) {
    this.au = new AccessUnitAssembler({ name: 'H.265', isKeyframe: (nal) => isHevcIrap(hevcNalType(nal[0]!)), parse: (p) => this.parse(p) }, limits);
  }

  /** Set after a loss; cleared by the next IRAP picture. */
  get needKeyframe(): boolean {
    return this.au.needKeyframe;
  }

  get droppedUnits(): number {
    return this.au.droppedUnits;
  }

  /** Feeds one payload; returns the access units it completes. Malformed payloads throw RtpError and damage the unit. */
  push(payload: Buffer, timestamp: number, marker: boolean, lostBefore: boolean): H265AccessUnit[] {
    return this.au.push(payload, timestamp, marker, lostBefore);
  }

  private parse(p: Buffer): void {
    if (p.length < 3) throw new RtpError(`H.265 RTP: payload of ${p.length} bytes`);
    const type = hevcNalType(p[0]!);
    if (type < HEVC_NAL_AP) this.au.add(p);
    else if (type === HEVC_NAL_AP) this.au.addAggregated(p, 2, 2, 'AP');
    else if (type === HEVC_NAL_FU) {
      const fh = p[2]!;
      // The unit's header: PayloadHdr with the FU header's type.
      const header = fh & 0x80 ? Buffer.from([(p[0]! & 0x81) | ((fh & 0x3f) << 1), p[1]!]) : null;
      this.au.fragment(header, p.subarray(3), (fh & 0x40) !== 0, 'FU');
    } else throw new RtpError(`H.265 RTP: unsupported payload type ${type}`);
  }
}
