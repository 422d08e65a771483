/**
 * RTCP (RFC 3550 6, RFC 4585 6, RFC 5104 4.3.1): the compound packets an SFU
 * reads (SR, RR, PLI, FIR, generic NACK) and the ones it writes (SR, PLI, NACK).
 */
import { RtpError } from './rtp-error.js';

const RtcpType = { SR: 200, RR: 201, SDES: 202, BYE: 203, APP: 204, RTPFB: 205, PSFB: 206 } as const;

export type RtcpItem =
  | { type: 'sr'; ssrc: number; ntpSec: number; ntpFrac: number; rtpTimestamp: number; packets: number; octets: number }
  | { type: 'rr'; ssrc: number; reports: number }
  | { type: 'pli'; sender: number; media: number }
  | { type: 'fir'; sender: number; media: number }
  | { type: 'nack'; sender: number; media: number; lost: number[] }
  | { type: 'bye'; ssrcs: number[] }
  | { type: 'other'; packetType: number; fmt: number };

/** At most this many NACKed sequence numbers are reported per packet (bounds the output of hostile input). */
const MAX_NACK_ITEMS = 1024;

/** Parses a compound RTCP packet. Throws RtpError on a malformed one. */
export function parseRtcp(buf: Buffer): RtcpItem[] {
  const items: RtcpItem[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 4 > buf.length) throw new RtpError(`RTCP: header truncated at ${off}`);
    const b0 = buf[off]!;
    if (b0 >>> 6 !== 2) throw new RtpError(`RTCP: version ${b0 >>> 6}, expected 2`);
    const fmt = b0 & 0x1f;
    const pt = buf[off + 1]!;
    const len = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (off + len > buf.length) throw new RtpError(`RTCP: packet of ${len} bytes overruns ${buf.length - off}`);
    const body = off + 4;
    const end = off + len;
    const need = (n: number): void => {
      if (body + n > end) throw new RtpError(`RTCP: type ${pt} needs ${n} body bytes, has ${end - body}`);
    };
    switch (pt) {
      case RtcpType.SR:
        need(24);
        items.push({
          type: 'sr',
          ssrc: buf.readUInt32BE(body),
          ntpSec: buf.readUInt32BE(body + 4),
          ntpFrac: buf.readUInt32BE(body + 8),
          rtpTimestamp: buf.readUInt32BE(body + 12),
          packets: buf.readUInt32BE(body + 16),
          octets: buf.readUInt32BE(body + 20),
        });
        break;
      case RtcpType.RR:
        need(4);
        items.push({ type: 'rr', ssrc: buf.readUInt32BE(body), reports: fmt });
        break;
      case RtcpType.BYE: {
        const ssrcs: number[] = [];
        for (let i = 0; i < fmt && body + 4 * i + 4 <= end; i++) ssrcs.push(buf.readUInt32BE(body + 4 * i));
        items.push({ type: 'bye', ssrcs });
        break;
      }
      case RtcpType.RTPFB:
        need(8);
        if (fmt === 1) {
          const lost: number[] = [];
          for (let p = body + 8; p + 4 <= end && lost.length < MAX_NACK_ITEMS; p += 4) {
            const pid = buf.readUInt16BE(p);
            const blp = buf.readUInt16BE(p + 2);
            lost.push(pid);
            for (let i = 0; i < 16 && lost.length < MAX_NACK_ITEMS; i++) if (blp & (1 << i)) lost.push((pid + i + 1) & 0xffff);
          }
          items.push({ type: 'nack', sender: buf.readUInt32BE(body), media: buf.readUInt32BE(body + 4), lost });
        } else items.push({ type: 'other', packetType: pt, fmt });
        break;
      case RtcpType.PSFB:
        need(8);
        if (fmt === 1) items.push({ type: 'pli', sender: buf.readUInt32BE(body), media: buf.readUInt32BE(body + 4) });
        else if (fmt === 4) {
          need(16);
          items.push({ type: 'fir', sender: buf.readUInt32BE(body), media: buf.readUInt32BE(body + 8) });
        } else items.push({ type: 'other', packetType: pt, fmt });
        break;
      default:
        items.push({ type: 'other', packetType: pt, fmt });
    }
    off = end;
  }
  return items;
}

/** Picture Loss Indication (RFC 4585 6.3.1). */
export function buildPli(sender: number, media: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  b[0] = 0x81;
  b[1] = RtcpType.PSFB;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(sender >>> 0, 4);
  b.writeUInt32BE(media >>> 0, 8);
  return b;
}

/** Generic NACK (RFC 4585 6.2.1) for the given sequence numbers, packed into PID+BLP pairs. */
export function buildNack(sender: number, media: number, seqs: readonly number[]): Buffer {
  const sorted = [...new Set(seqs.map((s) => s & 0xffff))].sort((a, b) => a - b);
  const pairs: [number, number][] = [];
  for (const s of sorted) {
    const last = pairs[pairs.length - 1];
    const d = last ? (s - last[0]) & 0xffff : 0;
    if (last && d >= 1 && d <= 16) last[1] |= 1 << (d - 1);
    else pairs.push([s, 0]);
  }
  const b = Buffer.allocUnsafe(12 + 4 * pairs.length);
  b[0] = 0x81;
  b[1] = RtcpType.RTPFB;
  b.writeUInt16BE(2 + pairs.length, 2);
  b.writeUInt32BE(sender >>> 0, 4);
  b.writeUInt32BE(media >>> 0, 8);
  pairs.forEach(([pid, blp], i) => {
    b.writeUInt16BE(pid, 12 + 4 * i);
    b.writeUInt16BE(blp, 14 + 4 * i);
  });
  return b;
}

/** NTP offset: seconds between 1900-01-01 and 1970-01-01. */
const NTP_EPOCH_OFFSET = 2208988800;

/** Sender Report without report blocks (RFC 3550 6.4.1); `wallMs` is Unix time in ms. */
export function buildSr(ssrc: number, wallMs: number, rtpTimestamp: number, packets: number, octets: number): Buffer {
  const b = Buffer.allocUnsafe(28);
  b[0] = 0x80;
  b[1] = RtcpType.SR;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  const sec = Math.floor(wallMs / 1000);
  b.writeUInt32BE((sec + NTP_EPOCH_OFFSET) >>> 0, 8);
  b.writeUInt32BE(Math.floor(((wallMs - sec * 1000) / 1000) * 0x100000000) >>> 0, 12);
  b.writeUInt32BE(rtpTimestamp >>> 0, 16);
  b.writeUInt32BE(packets >>> 0, 20);
  b.writeUInt32BE(octets >>> 0, 24);
  return b;
}

export interface ReportBlock {
  ssrc: number;
  /** 0..255 (fraction lost since the last report × 256). */
  fractionLost: number;
  cumulativeLost: number;
  extendedHighestSeq: number;
  jitter: number;
  /** Middle 32 bits of the last SR's NTP time, 0 if none. */
  lastSr: number;
  /** Delay since that SR in 1/65536 s. */
  delaySinceLastSr: number;
}

/** Receiver Report (RFC 3550 6.4.2) with up to 31 blocks. */
export function buildRr(sender: number, blocks: readonly ReportBlock[]): Buffer {
  const n = Math.min(31, blocks.length);
  const b = Buffer.alloc(8 + 24 * n);
  b[0] = 0x80 | n;
  b[1] = RtcpType.RR;
  b.writeUInt16BE(1 + 6 * n, 2);
  b.writeUInt32BE(sender >>> 0, 4);
  for (let i = 0; i < n; i++) {
    const k = blocks[i]!;
    const o = 8 + 24 * i;
    b.writeUInt32BE(k.ssrc >>> 0, o);
    b[o + 4] = Math.max(0, Math.min(255, k.fractionLost | 0));
    b.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, k.cumulativeLost | 0)), o + 5, 3);
    b.writeUInt32BE(k.extendedHighestSeq >>> 0, o + 8);
    b.writeUInt32BE(k.jitter >>> 0, o + 12);
    b.writeUInt32BE(k.lastSr >>> 0, o + 16);
    b.writeUInt32BE(k.delaySinceLastSr >>> 0, o + 20);
  }
  return b;
}

/** Receiver Estimated Max Bitrate (draft-alvestrand-rmcat-remb): the ceiling a sender should use. */
export function buildRemb(sender: number, bitrate: number, ssrcs: readonly number[]): Buffer {
  let exp = 0;
  let mantissa = Math.max(0, Math.floor(bitrate));
  while (mantissa > 0x3ffff) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  const b = Buffer.alloc(20 + 4 * ssrcs.length);
  b[0] = 0x80 | 15;
  b[1] = RtcpType.PSFB;
  b.writeUInt16BE(4 + ssrcs.length, 2);
  b.writeUInt32BE(sender >>> 0, 4);
  b.writeUInt32BE(0, 8);
  b.write('REMB', 12, 'latin1');
  b[16] = ssrcs.length;
  b[17] = (exp << 2) | (mantissa >>> 16);
  b.writeUInt16BE(mantissa & 0xffff, 18);
  ssrcs.forEach((s, i) => b.writeUInt32BE(s >>> 0, 20 + 4 * i));
  return b;
}

/** Per-SSRC reception statistics for Receiver Reports (RFC 3550 A.3, A.8). */
export class ReceiveStats {
  private baseSeq = -1;
  private maxExt = -1;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitter = 0;
  private lastTransit = NaN;
  private lastSrMid = 0;
  private lastSrAtMs = 0;

  constructor(
    readonly ssrc: number,
    readonly clockRate: number,
  ) {}

  onPacket(seq: number, rtpTimestamp: number, arrivalMs: number): void {
    if (this.baseSeq < 0) {
      this.baseSeq = seq;
      this.maxExt = seq;
    } else {
      let d = (seq - (this.maxExt & 0xffff)) & 0xffff;
      if (d >= 0x8000) d -= 0x10000;
      if (d > 0) this.maxExt += d;
    }
    this.received++;
    const transit = (arrivalMs * this.clockRate) / 1000 - rtpTimestamp;
    if (!Number.isNaN(this.lastTransit)) {
      const dd = Math.abs(transit - this.lastTransit);
      if (dd < this.clockRate * 10) this.jitter += (dd - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  onSenderReport(ntpSec: number, ntpFrac: number, arrivalMs: number): void {
    this.lastSrMid = ((ntpSec & 0xffff) << 16) | (ntpFrac >>> 16);
    this.lastSrAtMs = arrivalMs;
  }

  block(nowMs: number): ReportBlock | null {
    if (this.baseSeq < 0) return null;
    const expected = this.maxExt - this.baseSeq + 1;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    return {
      ssrc: this.ssrc,
      fractionLost: expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval),
      cumulativeLost: expected - this.received,
      extendedHighestSeq: this.maxExt,
      jitter: Math.round(this.jitter),
      lastSr: this.lastSrMid >>> 0,
      delaySinceLastSr: this.lastSrMid ? Math.round(((nowMs - this.lastSrAtMs) / 1000) * 65536) : 0,
    };
  }
}
