/**
 * Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01):
 * the sender numbers every packet of the transport in an RTP header
 * extension; the receiver reports when each arrived (RTCP RTPFB FMT 15) and
 * the sender's bandwidth estimator (Chromium's GoogCC) reads queueing delay
 * from the spread of those times. Here: reading the extension, a receiver
 * side recorder that builds the feedback, a parser (for a sender: WHEP
 * players' feedback, twcc-estimator.ts), and the sender's stamping.
 * Times are in microseconds from an injected clock (sans-IO).
 */
import { RtpError } from './rtp-error.js';

export const TWCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

const RTPFB = 205;
const FMT_TWCC = 15;
/** Receive deltas are in units of 250 µs; the reference time in units of 64 ms. */
const DELTA_US = 250;
const REF_US = 64_000;
/** Packets per feedback packet: keeps one feedback well under an MTU (≤ 2 + 2/7 bytes each ≈ 1 KB). */
const MAX_PER_FEEDBACK = 400;
/** Pending arrivals kept at most (a sender that never stops numbering, a receiver that never reports). */
const MAX_PENDING = 8192;

/** readTransportSeq's result holder for scanOneByteExtension (no allocation per packet). */
const scratch = { at: -1, ids: 0 };

/**
 * The transport-wide sequence number in `pkt`'s header extension `extId`
 * (RFC 8285 one- or two-byte form), or -1 when the packet has none.
 */
export function readTransportSeq(pkt: Buffer, extId: number): number {
  if (pkt.length < 12 || !(pkt[0]! & 0x10)) return -1;
  let off = 12 + (pkt[0]! & 0x0f) * 4;
  if (off + 4 > pkt.length) return -1;
  const profile = pkt.readUInt16BE(off);
  const end = off + 4 + pkt.readUInt16BE(off + 2) * 4;
  if (end > pkt.length) return -1;
  off += 4;
  if (profile === 0xbede) {
    scanOneByteExtension(pkt, extId, scratch);
    return scratch.at >= 0 ? pkt.readUInt16BE(scratch.at) : -1;
  } else if (profile >>> 4 === 0x100) {
    while (off + 1 < end) {
      const id = pkt[off]!;
      if (id === 0) {
        off++;
        continue;
      }
      const len = pkt[off + 1]!;
      if (id === extId) return len >= 2 && off + 4 <= end ? pkt.readUInt16BE(off + 2) : -1;
      off += 2 + len;
    }
  }
  return -1;
}

/**
 * Where the transport-wide sequence of `pkt` is, when its header extension
 * is in the one-byte form: `out.at` is the offset of element `extId`'s
 * 2-byte value (-1 if none), `out.ids` has bit N set for each other
 * element's ID N. Lets a sender rewrite that element in place for each receiver.
 */
export function scanOneByteExtension(pkt: Buffer, extId: number, out: { at: number; ids: number }): void {
  out.at = -1;
  out.ids = 0;
  if (pkt.length < 12 || !(pkt[0]! & 0x10)) return;
  let off = 12 + (pkt[0]! & 0x0f) * 4;
  if (off + 4 > pkt.length || pkt.readUInt16BE(off) !== 0xbede) return;
  const end = off + 4 + pkt.readUInt16BE(off + 2) * 4;
  if (end > pkt.length) return;
  off += 4;
  while (off < end) {
    const b = pkt[off]!;
    if (b === 0) {
      off++;
      continue;
    }
    const id = b >>> 4;
    if (id === 15) return;
    const len = (b & 0x0f) + 1;
    if (id === extId && len === 2 && off + 3 <= end) out.at = off + 1;
    else out.ids |= 1 << id;
    off += 1 + len;
  }
}

/**
 * `pkt` (header extension and payload from `payloadOffset`) copied into `out`
 * with a header extension of only the transport-wide sequence `seq` as
 * element `extId`; returns the length written. `out` must hold
 * pkt.length + 8 bytes. For packets without an element to rewrite in place.
 */
export function copyWithTransportSeq(pkt: Buffer, payloadOffset: number, extId: number, seq: number, out: Buffer): number {
  const hl = 12 + (pkt[0]! & 0x0f) * 4;
  pkt.copy(out, 0, 0, hl);
  out[0] = out[0]! | 0x10;
  out.writeUInt16BE(0xbede, hl);
  out.writeUInt16BE(1, hl + 2);
  out[hl + 4] = ((extId & 0x0f) << 4) | 1;
  out.writeUInt16BE(seq & 0xffff, hl + 5);
  out[hl + 7] = 0;
  pkt.copy(out, hl + 8, payloadOffset);
  return hl + 8 + pkt.length - payloadOffset;
}

interface TwccPacketReport {
  sequence: number;
  /** Arrival in µs on the feedback's clock (reference time + deltas); -1 when not received. */
  arrivalUs: number;
}

export interface TwccFeedback {
  sender: number;
  media: number;
  baseSequence: number;
  /** The reference time in µs (a multiple of 64 ms, 24-bit wrapped). */
  referenceUs: number;
  feedbackCount: number;
  packets: TwccPacketReport[];
}

/** Symbols of the packet status chunks. */
const NOT_RECEIVED = 0;
const SMALL = 1;
const LARGE = 2;

/**
 * One feedback packet for packets `baseSeq`.. (`arrivals[i]` is packet
 * baseSeq+i's arrival in µs, or -1 for lost). Every delta must fit the
 * 16-bit signed form (the recorder splits where it would not).
 */
export function buildTwccFeedback(sender: number, media: number, baseSeq: number, feedbackCount: number, arrivals: readonly number[]): Buffer {
  const n = arrivals.length;
  const first = arrivals.find((a) => a >= 0) ?? 0;
  const ref = Math.floor(first / REF_US);
  const symbols = new Uint8Array(n);
  const deltas: number[] = [];
  let prev = ref * REF_US;
  for (let i = 0; i < n; i++) {
    const a = arrivals[i]!;
    if (a < 0) continue;
    const d = Math.round((a - prev) / DELTA_US);
    if (d < -0x8000 || d > 0x7fff) throw new RtpError(`TWCC: delta ${d} does not fit 16 bits`);
    symbols[i] = d >= 0 && d <= 0xff ? SMALL : LARGE;
    deltas.push(d);
    prev += d * DELTA_US;
  }
  const chunks: number[] = [];
  for (let i = 0; i < n; ) {
    let run = 1;
    while (i + run < n && symbols[i + run] === symbols[i] && run < 0x1fff) run++;
    if (run >= 7) {
      chunks.push((symbols[i]! << 13) | run);
      i += run;
    } else {
      // A two-bit status vector: 7 symbols (the ones past the status count are ignored by the reader).
      let c = 0xc000;
      for (let k = 0; k < 7; k++) c |= (i + k < n ? symbols[i + k]! : 0) << (12 - 2 * k);
      chunks.push(c);
      i += 7;
    }
  }
  let deltaBytes = 0;
  for (const d of deltas) deltaBytes += d >= 0 && d <= 0xff ? 1 : 2;
  const unpadded = 20 + 2 * chunks.length + deltaBytes;
  const padding = (4 - (unpadded % 4)) % 4;
  const b = Buffer.alloc(unpadded + padding);
  b[0] = 0x80 | (padding ? 0x20 : 0) | FMT_TWCC;
  b[1] = RTPFB;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(sender >>> 0, 4);
  b.writeUInt32BE(media >>> 0, 8);
  b.writeUInt16BE(baseSeq & 0xffff, 12);
  b.writeUInt16BE(n, 14);
  b.writeUIntBE(ref & 0xffffff, 16, 3);
  b[19] = feedbackCount & 0xff;
  let o = 20;
  for (const c of chunks) {
    b.writeUInt16BE(c, o);
    o += 2;
  }
  for (const d of deltas) {
    if (d >= 0 && d <= 0xff) b[o++] = d;
    else {
      b.writeInt16BE(d, o);
      o += 2;
    }
  }
  if (padding) b[b.length - 1] = padding;
  return b;
}

/** Parses one transport-cc feedback packet (RTPFB, FMT 15). Throws RtpError. */
export function parseTwccFeedback(b: Buffer): TwccFeedback {
  if (b.length < 20) throw new RtpError(`TWCC: ${b.length} bytes, need 20`);
  if (b[0]! >>> 6 !== 2 || (b[0]! & 0x1f) !== FMT_TWCC || b[1] !== RTPFB) throw new RtpError('TWCC: not an RTPFB FMT 15 packet');
  let end = (b.readUInt16BE(2) + 1) * 4;
  if (end > b.length) throw new RtpError('TWCC: length overruns the buffer');
  if (b[0]! & 0x20) end -= b[end - 1]!;
  const baseSequence = b.readUInt16BE(12);
  const count = b.readUInt16BE(14);
  const ref = b.readUIntBE(16, 3);
  const symbols = new Uint8Array(count);
  let o = 20;
  let i = 0;
  while (i < count) {
    if (o + 2 > end) throw new RtpError('TWCC: packet chunks truncated');
    const c = b.readUInt16BE(o);
    o += 2;
    if (!(c & 0x8000)) {
      const s = (c >>> 13) & 3;
      const run = c & 0x1fff;
      for (let k = 0; k < run && i < count; k++) symbols[i++] = s;
    } else if (!(c & 0x4000)) {
      for (let k = 0; k < 14 && i < count; k++) symbols[i++] = (c >>> (13 - k)) & 1;
    } else {
      for (let k = 0; k < 7 && i < count; k++) symbols[i++] = (c >>> (12 - 2 * k)) & 3;
    }
  }
  const packets: TwccPacketReport[] = [];
  let t = ref * REF_US;
  for (let k = 0; k < count; k++) {
    const s = symbols[k]!;
    let arrivalUs = -1;
    if (s === SMALL || s === LARGE) {
      const size = s === SMALL ? 1 : 2;
      if (o + size > end) throw new RtpError('TWCC: receive deltas truncated');
      t += (s === SMALL ? b[o]! : b.readInt16BE(o)) * DELTA_US;
      o += size;
      arrivalUs = t;
    } else if (s !== NOT_RECEIVED) throw new RtpError('TWCC: reserved status symbol');
    packets.push({ sequence: (baseSequence + k) & 0xffff, arrivalUs });
  }
  return { sender: b.readUInt32BE(4), media: b.readUInt32BE(8), baseSequence, referenceUs: ref * REF_US, feedbackCount: b[19]!, packets };
}

/**
 * The receiver's side: arrivals by transport-wide sequence number, turned
 * into feedback packets on each `flush`. A packet that arrives after its
 * number was reported (reordered past a flush) is left out.
 */
export class TwccRecorder {
  /** Extended sequence → arrival µs, not yet reported. */
  private readonly pending = new Map<number, number>();
  private highest = -1;
  /** The first extended sequence not yet reported. */
  private nextReport = -1;
  private feedbackCount = 0;
  packets = 0;
  feedbacks = 0;

  onPacket(sequence: number, arrivalUs: number): void {
    let ext: number;
    if (this.highest < 0) ext = 0x10000 + sequence;
    else {
      let d = (sequence - (this.highest & 0xffff)) & 0xffff;
      if (d >= 0x8000) d -= 0x10000;
      ext = this.highest + d;
    }
    if (this.nextReport < 0) this.nextReport = ext;
    if (ext < this.nextReport || this.pending.has(ext)) return;
    if (this.pending.size >= MAX_PENDING) return;
    this.pending.set(ext, arrivalUs);
    if (ext > this.highest) this.highest = ext;
    this.packets++;
  }

  /** Feedback packets for everything received since the last flush (none when nothing was). */
  flush(sender: number, media: number): Buffer[] {
    const out: Buffer[] = [];
    if (this.pending.size === 0) return out;
    let base = this.nextReport;
    // After a long silence or a jump, start at the lowest pending number rather than report a long run of losses.
    let lowest = Infinity;
    for (const k of this.pending.keys()) if (k < lowest) lowest = k;
    if (lowest - base > MAX_PER_FEEDBACK) base = lowest;
    while (base <= this.highest) {
      const arrivals: number[] = [];
      let prev = NaN;
      let s = base;
      for (; s <= this.highest && arrivals.length < MAX_PER_FEEDBACK; s++) {
        const a = this.pending.get(s);
        if (a === undefined) {
          arrivals.push(-1);
          continue;
        }
        if (Number.isNaN(prev)) prev = Math.floor(a / REF_US) * REF_US;
        const d = Math.round((a - prev) / DELTA_US);
        if (d < -0x8000 || d > 0x7fff) break;
        prev += d * DELTA_US;
        arrivals.push(a);
      }
      while (arrivals.length > 0 && arrivals[arrivals.length - 1]! < 0) {
        arrivals.pop();
        s--;
      }
      if (arrivals.length === 0) break;
      out.push(buildTwccFeedback(sender, media, base & 0xffff, this.feedbackCount++, arrivals));
      this.feedbacks++;
      for (let k = base; k < s; k++) this.pending.delete(k);
      base = s;
    }
    this.nextReport = base;
    // Anything left below the report point (nothing, normally) is dropped: it can no longer be reported.
    for (const k of this.pending.keys()) if (k < base) this.pending.delete(k);
    return out;
  }
}
