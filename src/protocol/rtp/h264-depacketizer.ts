/**
 * RTP payloads (in order, from the jitter buffer) → H.264 access units
 * (RFC 6184: single NAL, STAP-A, FU-A). An access unit ends at the marker bit
 * or when the timestamp changes. After a loss the damaged access unit is
 * dropped and so is everything until the next IDR (`needKeyframe` tells the
 * session to send a PLI).
 */
import { RtpError } from './rtp-error.js';
import { NAL_FU_A, NAL_STAP_A } from './h264-packetizer.js';

export interface H264AccessUnit {
  /** RTP timestamp (90 kHz). */
  timestamp: number;
  nalus: Buffer[];
  /** Contains an IDR slice. */
  keyframe: boolean;
}

export interface H264DepacketizerLimits {
  /** Largest NAL unit reassembled from FU-A fragments (bytes). */
  maxNaluBytes?: number;
  /** Most NAL units in one access unit. */
  maxNalus?: number;
}

export class H264Depacketizer {
  /** Set after a loss; cleared by the next IDR. */
  needKeyframe = true;
  droppedUnits = 0;
  private nalus: Buffer[] = [];
  private timestamp = -1;
  private damaged = false;
  private fu: Buffer[] | null = null;
  private fuBytes = 0;
  private readonly maxNaluBytes: number;
  private readonly maxNalus: number;

  constructor(limits: H264DepacketizerLimits = {}) {
    this.maxNaluBytes = limits.maxNaluBytes ?? 4 << 20;
    this.maxNalus = limits.maxNalus ?? 1024;
  }

  /**
   * Feeds one payload. `lostBefore` says packets were lost right before it.
   * Returns the access units completed by this packet (0, 1 or 2).
   * Malformed payloads throw RtpError and damage the current access unit.
   */
  push(payload: Buffer, timestamp: number, marker: boolean, lostBefore: boolean): H264AccessUnit[] {
    const done: H264AccessUnit[] = [];
    if (this.timestamp !== -1 && timestamp !== this.timestamp) {
      // A new timestamp without a marker on the previous unit: that unit lost its tail, or the sender omits markers.
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
      if (marker) {
        this.finish(true);
      }
      throw err;
    }
    if (marker) {
      const unit = this.finish(false);
      if (unit) done.push(unit);
    }
    return done;
  }

  private parse(p: Buffer): void {
    if (p.length < 1) throw new RtpError('H.264 RTP: empty payload');
    const type = p[0]! & 0x1f;
    if (type >= 1 && type <= 23) this.add(p);
    else if (type === NAL_STAP_A) {
      let off = 1;
      while (off < p.length) {
        if (off + 2 > p.length) throw new RtpError('H.264 STAP-A: truncated size field');
        const len = p.readUInt16BE(off);
        off += 2;
        if (len === 0 || off + len > p.length) throw new RtpError(`H.264 STAP-A: NAL unit of ${len} bytes overruns the packet`);
        this.add(p.subarray(off, off + len));
        off += len;
      }
    } else if (type === NAL_FU_A) {
      if (p.length < 3) throw new RtpError('H.264 FU-A: payload shorter than 3 bytes');
      const fh = p[1]!;
      const start = (fh & 0x80) !== 0;
      const end = (fh & 0x40) !== 0;
      if (start) {
        this.fu = [Buffer.from([(p[0]! & 0xe0) | (fh & 0x1f)])];
        this.fuBytes = 1;
      } else if (!this.fu) {
        // A middle fragment whose start we never saw: the unit is damaged.
        this.damaged = true;
        return;
      }
      this.fu!.push(p.subarray(2));
      this.fuBytes += p.length - 2;
      if (this.fuBytes > this.maxNaluBytes) throw new RtpError(`H.264 FU-A: NAL unit exceeds ${this.maxNaluBytes} bytes`);
      if (end) {
        const nal = Buffer.concat(this.fu!, this.fuBytes);
        this.fu = null;
        this.add(nal);
      }
    } else throw new RtpError(`H.264 RTP: unsupported NAL unit type ${type}`);
  }

  private add(nal: Buffer): void {
    if (this.nalus.length >= this.maxNalus) throw new RtpError(`H.264 RTP: more than ${this.maxNalus} NAL units in one access unit`);
    this.nalus.push(nal);
  }

  private finish(incomplete: boolean): H264AccessUnit | null {
    const nalus = this.nalus;
    const damaged = this.damaged || incomplete;
    const timestamp = this.timestamp;
    this.nalus = [];
    this.damaged = false;
    this.fu = null;
    this.timestamp = -1;
    if (damaged) {
      // Even a unit with no complete NAL unit left (all of it in lost fragments) breaks the references.
      this.droppedUnits++;
      this.needKeyframe = true;
      return null;
    }
    if (nalus.length === 0) return null;
    const keyframe = nalus.some((n) => (n[0]! & 0x1f) === 5);
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
