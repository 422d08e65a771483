/**
 * What the H.264 and H.265 RTP packetizers (RFC 6184, RFC 7798) share: the
 * RTP header and sequence numbers, and how an access unit is cut: a run of
 * small units that fits one packet goes in an aggregation packet (STAP-A,
 * AP), a unit that fits goes whole, a larger one in fragments (FU-A, FU);
 * the marker bit ends the access unit. The codec writes its own payload
 * headers in `aggregate` and `fragment`.
 */
import { writeRtpHeader, RTP_HEADER_SIZE } from './rtp-packet.js';
import { RtpError } from './rtp-error.js';

export interface NalPacketizerOptions {
  ssrc: number;
  payloadType: number;
  /** Largest RTP payload (bytes); 1200 keeps SRTP + UDP + IP under common MTUs. */
  maxPayload?: number;
  /** First sequence number (random by default, RFC 3550 5.1). */
  initialSequence?: number;
}

export abstract class NalPacketizer {
  sequence: number;
  readonly ssrc: number;
  readonly payloadType: number;
  readonly maxPayload: number;

  constructor(
    codec: string,
    o: NalPacketizerOptions,
    /** The NAL unit header's size (1 for H.264, 2 for H.265): shorter units are skipped, and an aggregation packet starts with one. */
    private readonly nalHeaderBytes: number,
  ) {
    this.ssrc = o.ssrc;
    this.payloadType = o.payloadType;
    this.maxPayload = o.maxPayload ?? 1200;
    if (this.maxPayload < 16) throw new RtpError(`${codec} packetizer: maxPayload ${this.maxPayload} is too small`);
    this.sequence = o.initialSequence ?? Math.floor(Math.random() * 0x10000);
  }

  /** Packetizes one access unit given as NAL units (header first, no start codes or length prefixes). */
  packetize(nalus: readonly Buffer[], timestamp: number): Buffer[] {
    const out: Buffer[] = [];
    const units = nalus.filter((n) => n.length >= this.nalHeaderBytes);
    for (let i = 0; i < units.length; i++) {
      // Aggregate a run of small NAL units (parameter sets, SEI) that fits one packet.
      let j = i;
      let size = this.nalHeaderBytes;
      while (j < units.length && this.isAggregatable(units[j]!) && size + 2 + units[j]!.length <= this.maxPayload) {
        size += 2 + units[j]!.length;
        j++;
      }
      if (j - i >= 2) {
        out.push(this.aggregate(units.slice(i, j), size, timestamp, j === units.length));
        i = j - 1;
        continue;
      }
      const nal = units[i]!;
      const last = i === units.length - 1;
      if (nal.length <= this.maxPayload) out.push(this.packet(nal, timestamp, last));
      else this.fragment(nal, timestamp, last, out);
    }
    return out;
  }

  /** Small units worth one packet together. */
  protected abstract isAggregatable(nal: Buffer): boolean;

  /** One aggregation packet of `size` payload bytes: its payload header, then each unit behind a 16-bit size. */
  protected abstract aggregate(nalus: readonly Buffer[], size: number, timestamp: number, marker: boolean): Buffer;

  /** A unit too large for one packet, as fragments pushed to `out`; the last one carries the marker when `lastNal`. */
  protected abstract fragment(nal: Buffer, timestamp: number, lastNal: boolean, out: Buffer[]): void;

  /** A packet with room for `len` payload bytes behind its RTP header (the next sequence number). */
  protected header(len: number, timestamp: number, marker: boolean): Buffer {
    const b = Buffer.allocUnsafe(RTP_HEADER_SIZE + len);
    writeRtpHeader(b, this.payloadType, this.sequence, timestamp, this.ssrc, marker);
    this.sequence = (this.sequence + 1) & 0xffff;
    return b;
  }

  /** The units behind their 16-bit sizes, from `off` (an aggregation packet's body). */
  protected static writeAggregated(b: Buffer, off: number, nalus: readonly Buffer[]): void {
    for (const n of nalus) {
      b.writeUInt16BE(n.length, off);
      n.copy(b, off + 2);
      off += 2 + n.length;
    }
  }

  private packet(nal: Buffer, timestamp: number, marker: boolean): Buffer {
    const b = this.header(nal.length, timestamp, marker);
    nal.copy(b, RTP_HEADER_SIZE);
    return b;
  }
}
