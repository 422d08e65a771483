/**
 * RTP payloads (in order, from the jitter buffer) → H.264 access units
 * (RFC 6184: single NAL, STAP-A, FU-A). Cutting access units and dropping
 * them after a loss until the next IDR is the shared AccessUnitAssembler's.
 */
import { RtpError } from './rtp-error.js';
import { NAL_FU_A, NAL_STAP_A } from './h264-packetizer.js';
import { AccessUnitAssembler, type AccessUnit } from './access-unit-assembler.js';

/** An H.264 access unit; `keyframe`: contains an IDR slice. */
export type H264AccessUnit = AccessUnit;

export class H264Depacketizer extends AccessUnitAssembler {
  protected readonly codec = 'H.264';

  protected isKeyframe(nal: Buffer): boolean {
    return (nal[0]! & 0x1f) === 5;
  }

  protected parse(p: Buffer): void {
    if (p.length < 1) throw new RtpError('H.264 RTP: empty payload');
    const type = p[0]! & 0x1f;
    if (type >= 1 && type <= 23) this.add(p);
    else if (type === NAL_STAP_A) this.addAggregated(p, 1, 1, 'STAP-A');
    else if (type === NAL_FU_A) {
      if (p.length < 3) throw new RtpError('H.264 FU-A: payload shorter than 3 bytes');
      const fh = p[1]!;
      // The unit's header: NRI from the FU indicator, the type from the FU header.
      const header = fh & 0x80 ? Buffer.from([(p[0]! & 0xe0) | (fh & 0x1f)]) : null;
      this.fragment(header, p.subarray(2), (fh & 0x40) !== 0, 'FU-A');
    } else throw new RtpError(`H.264 RTP: unsupported NAL unit type ${type}`);
  }
}
