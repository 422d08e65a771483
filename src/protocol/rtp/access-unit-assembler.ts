/**
 * The codec-neutral half of an H.264/H.265 RTP depacketizer: gathers the NAL
 * units of one access unit, cuts it at the marker bit or a new timestamp,
 * rebuilds fragmented units, and after a loss drops the damaged unit and
 * everything up to the next keyframe (`needKeyframe` tells the session to send
 * a PLI). A codec's depacketizer extends it and only reads its payload
 * formats (RFC 6184, RFC 7798) in `parse`, handing the units to `add`,
 * `addAggregated` and `fragment`. Sans-IO: buffers in, units out.
 */
import { RtpError } from './rtp-error.js';

export interface AccessUnit {
  /** RTP timestamp (90 kHz). */
  timestamp: number;
  nalus: Buffer[];
  /** Contains a keyframe slice (H.264 IDR, H.265 IRAP). */
  keyframe: boolean;
}

export interface AccessUnitLimits {
  /** Largest NAL unit reassembled from fragments (bytes). */
  maxNaluBytes?: number;
  /** Most NAL units in one access unit. */
  maxNalus?: number;
}

export abstract class AccessUnitAssembler {
  /** Set after a loss; cleared by the next keyframe. */
  needKeyframe = true;
  droppedUnits = 0;
  private nalus: Buffer[] = [];
  private timestamp = -1;
  private damaged = false;
  private fu: Buffer[] | null = null;
  private fuBytes = 0;
  private readonly maxNaluBytes: number;
  private readonly maxNalus: number;

  /** For error messages: 'H.264', 'H.265'. */
  protected abstract readonly codec: string;

  constructor(limits: AccessUnitLimits = {}) {
    this.maxNaluBytes = limits.maxNaluBytes ?? 4 << 20;
    this.maxNalus = limits.maxNalus ?? 1024;
  }

  /**
   * Feeds one payload. `lostBefore` says packets were lost right before it.
   * Returns the access units completed by this packet (0, 1 or 2).
   * Malformed payloads throw RtpError and damage the current access unit.
   */
  push(payload: Buffer, timestamp: number, marker: boolean, lostBefore: boolean): AccessUnit[] {
    const done: AccessUnit[] = [];
    if (this.timestamp !== -1 && timestamp !== this.timestamp) {
      // A new timestamp without a marker on the previous unit: that unit lost its tail, or the sender omits markers.
      const unit = this.finish(this.fu !== null);
      if (unit) done.push(unit);
    }
    if (lostBefore) this.damage();
    this.timestamp = timestamp;
    try {
      this.parse(payload);
    } catch (err) {
      this.damage();
      if (marker) this.finish(true);
      throw err;
    }
    if (marker) {
      const unit = this.finish(false);
      if (unit) done.push(unit);
    }
    return done;
  }

  /** Reads one payload, handing its NAL units to add/addAggregated/fragment; throws RtpError on malformed input. */
  protected abstract parse(payload: Buffer): void;

  /** Whether a NAL unit is a keyframe slice. */
  protected abstract isKeyframe(nal: Buffer): boolean;

  /** One whole NAL unit of the current access unit. */
  protected add(nal: Buffer): void {
    if (this.nalus.length >= this.maxNalus) throw new RtpError(`${this.codec} RTP: more than ${this.maxNalus} NAL units in one access unit`);
    this.nalus.push(nal);
  }

  /**
   * The units of an aggregation packet (H.264 STAP-A, H.265 AP): from `off`
   * on, a 16-bit size and that many bytes, each unit at least `minNalu` bytes.
   */
  protected addAggregated(p: Buffer, off: number, minNalu: number, what: string): void {
    while (off < p.length) {
      if (off + 2 > p.length) throw new RtpError(`${this.codec} ${what}: truncated size field`);
      const len = p.readUInt16BE(off);
      off += 2;
      if (len < minNalu || off + len > p.length) throw new RtpError(`${this.codec} ${what}: NAL unit of ${len} bytes overruns the packet`);
      this.add(p.subarray(off, off + len));
      off += len;
    }
  }

  /**
   * One fragment of a NAL unit (H.264 FU-A, H.265 FU). `header` is the
   * unit's rebuilt NAL header on the start fragment, null on the others.
   */
  protected fragment(header: Buffer | null, data: Buffer, end: boolean, what: string): void {
    if (header) {
      this.fu = [header];
      this.fuBytes = header.length;
    } else if (!this.fu) {
      // A fragment whose start we never saw: the unit is damaged.
      this.damaged = true;
      return;
    }
    this.fu.push(data);
    this.fuBytes += data.length;
    if (this.fuBytes > this.maxNaluBytes) throw new RtpError(`${this.codec} ${what}: NAL unit exceeds ${this.maxNaluBytes} bytes`);
    if (end) {
      const nal = Buffer.concat(this.fu, this.fuBytes);
      this.fu = null;
      this.add(nal);
    }
  }

  private damage(): void {
    this.damaged = true;
    this.fu = null;
  }

  private finish(incomplete: boolean): AccessUnit | null {
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
    const keyframe = nalus.some((n) => this.isKeyframe(n));
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
