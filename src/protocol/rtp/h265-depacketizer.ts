/**
 * RTP payloads (in order, from the jitter buffer) → H.265 access units
 * (RFC 7798 without DONL: single NAL unit, Aggregation Packet, Fragmentation
 * Unit; PACI is refused). As for H.264: an access unit ends at the marker
 * bit or a new timestamp; after a loss it is dropped with everything up to
 * the next IRAP picture (`needKeyframe`).
 */
import { RtpError } from './rtp-error.js';
import { HEVC_NAL_AP, HEVC_NAL_FU, hevcNalType, isHevcIrap } from './h265-packetizer.js';

export interface H265AccessUnit {
  /** RTP timestamp (90 kHz). */
  timestamp: number;
  nalus: Buffer[];
  /** Contains an IRAP slice (IDR, CRA, BLA). */
  keyframe: boolean;
}

export class H265Depacketizer {
  needKeyframe = true;
  droppedUnits = 0;
  private nalus: Buffer[] = [];
  private timestamp = -1;
  private damaged = false;
  private fu: Buffer[] | null = null;
  private fuBytes = 0;

  constructor(
    private readonly maxNaluBytes = 4 << 20,
    private readonly maxNalus = 1024,
  ) {}

  /** Feeds one payload; returns the access units it completes. Malformed payloads throw RtpError and damage the unit. */
  push(payload: Buffer, timestamp: number, marker: boolean, lostBefore: boolean): H265AccessUnit[] {
    const done: H265AccessUnit[] = [];
    if (this.timestamp !== -1 && timestamp !== this.timestamp) {
      const unit = this.finish(this.fu !== null);
      if (unit) done.push(unit);
    }
    if (lostBefore) {
      this.damaged = true;
      this.fu = null;
    }
    this.timestamp = timestamp;
    try {
      this.parse(payload);
    } catch (err) {
      this.damaged = true;
      this.fu = null;
      if (marker) this.finish(true);
      throw err;
    }
    if (marker) {
      const unit = this.finish(false);
      if (unit) done.push(unit);
    }
    return done;
  }

  private parse(p: Buffer): void {
    if (p.length < 3) throw new RtpError(`H.265 RTP: payload of ${p.length} bytes`);
    const type = hevcNalType(p[0]!);
    if (type < HEVC_NAL_AP) this.add(p);
    else if (type === HEVC_NAL_AP) {
      let off = 2;
      while (off < p.length) {
        if (off + 2 > p.length) throw new RtpError('H.265 AP: truncated size field');
        const len = p.readUInt16BE(off);
        off += 2;
        if (len < 2 || off + len > p.length) throw new RtpError(`H.265 AP: NAL unit of ${len} bytes overruns the packet`);
        this.add(p.subarray(off, off + len));
        off += len;
      }
    } else if (type === HEVC_NAL_FU) {
      const fh = p[2]!;
      if (fh & 0x80) {
        // The unit's header: PayloadHdr with the FU header's type.
        this.fu = [Buffer.from([(p[0]! & 0x81) | ((fh & 0x3f) << 1), p[1]!])];
        this.fuBytes = 2;
      } else if (!this.fu) {
        this.damaged = true;
        return;
      }
      this.fu!.push(p.subarray(3));
      this.fuBytes += p.length - 3;
      if (this.fuBytes > this.maxNaluBytes) throw new RtpError(`H.265 FU: NAL unit exceeds ${this.maxNaluBytes} bytes`);
      if (fh & 0x40) {
        const nal = Buffer.concat(this.fu!, this.fuBytes);
        this.fu = null;
        this.add(nal);
      }
    } else throw new RtpError(`H.265 RTP: unsupported payload type ${type}`);
  }

  private add(nal: Buffer): void {
    if (this.nalus.length >= this.maxNalus) throw new RtpError(`H.265 RTP: more than ${this.maxNalus} NAL units in one access unit`);
    this.nalus.push(nal);
  }

  private finish(incomplete: boolean): H265AccessUnit | null {
    const nalus = this.nalus;
    const damaged = this.damaged || incomplete;
    const timestamp = this.timestamp;
    this.nalus = [];
    this.damaged = false;
    this.fu = null;
    this.timestamp = -1;
    if (damaged) {
      this.droppedUnits++;
      this.needKeyframe = true;
      return null;
    }
    if (nalus.length === 0) return null;
    const keyframe = nalus.some((n) => isHevcIrap(hevcNalType(n[0]!)));
    if (this.needKeyframe) {
      if (!keyframe) {
        this.droppedUnits++;
        return null;
      }
      this.needKeyframe = false;
    }
    return { timestamp, nalus, keyframe };
  }
}
