/**
 * RTP payloads (in order, from the jitter buffer) → H.265 access units
 * (RFC 7798 without DONL: single NAL unit, Aggregation Packet, Fragmentation
 * Unit; PACI is refused). Cutting access units and dropping them after a loss
 * until the next IRAP picture is the shared AccessUnitAssembler's.
 */
import { RtpError } from './rtp-error.js';
import { HEVC_NAL_AP, HEVC_NAL_FU, hevcNalType, isHevcIrap } from './h265-packetizer.js';
import { AccessUnitAssembler, type AccessUnit } from './access-unit-assembler.js';

/** An H.265 access unit; `keyframe`: contains an IRAP slice (IDR, CRA, BLA). */
export type H265AccessUnit = AccessUnit;

export class H265Depacketizer extends AccessUnitAssembler {
  protected readonly codec = 'H.265';

  protected isKeyframe(nal: Buffer): boolean {
    return isHevcIrap(hevcNalType(nal[0]!));
  }

  protected parse(p: Buffer): void {
    if (p.length < 3) throw new RtpError(`H.265 RTP: payload of ${p.length} bytes`);
    const type = hevcNalType(p[0]!);
    if (type < HEVC_NAL_AP) this.add(p);
    else if (type === HEVC_NAL_AP) this.addAggregated(p, 2, 2, 'AP');
    else if (type === HEVC_NAL_FU) {
      const fh = p[2]!;
      // The unit's header: PayloadHdr with the FU header's type.
      const header = fh & 0x80 ? Buffer.from([(p[0]! & 0x81) | ((fh & 0x3f) << 1), p[1]!]) : null;
      this.fragment(header, p.subarray(3), (fh & 0x40) !== 0, 'FU');
    } else throw new RtpError(`H.265 RTP: unsupported payload type ${type}`);
  }
}
