/**
 * A bounded reordering buffer for one RTP stream. Packets go in by sequence
 * number, in any order; they come out in order. A gap is waited for at most
 * `maxDelayMs` (time is passed in: sans-IO), then skipped and reported as a
 * loss. `missing()` lists what to NACK.
 */
import { seqDelta } from './rtp-packet.js';

export interface JitterBufferOptions {
  /** Packets held at most (a power of two is not required). */
  capacity?: number;
  /** How long a gap may hold back later packets (ms). */
  maxDelayMs?: number;
  /** Do not NACK the same packet again within this time (ms). */
  nackIntervalMs?: number;
}

export interface JitterOutput<T> {
  item: T;
  sequence: number;
  /** Packets were skipped (lost) right before this one. */
  lostBefore: boolean;
}

export class RtpJitterBuffer<T> {
  private readonly capacity: number;
  private readonly maxDelayMs: number;
  private readonly nackIntervalMs: number;
  private readonly items: (T | undefined)[];
  private readonly seqs: Int32Array;
  private readonly arrivals: Float64Array;
  private readonly nackedAt: Float64Array;
  /** Extended sequence expected next; -1 before the first packet. */
  private next = -1;
  private highest = -1;
  private skipped = false;
  lost = 0;
  duplicates = 0;

  constructor(o: JitterBufferOptions = {}) {
    this.capacity = o.capacity ?? 512;
    this.maxDelayMs = o.maxDelayMs ?? 150;
    this.nackIntervalMs = o.nackIntervalMs ?? 40;
    this.items = new Array<T | undefined>(this.capacity);
    this.seqs = new Int32Array(this.capacity).fill(-1);
    this.arrivals = new Float64Array(this.capacity);
    this.nackedAt = new Float64Array(this.capacity);
  }

  get size(): number {
    let n = 0;
    for (let i = 0; i < this.capacity; i++) if (this.items[i] !== undefined) n++;
    return n;
  }

  push(sequence: number, item: T, nowMs: number): void {
    if (this.next < 0) {
      this.next = this.highest = 0x10000 + sequence;
    }
    const ext = this.highest + seqDelta(this.highest & 0xffff, sequence);
    if (ext < this.next) {
      this.duplicates++;
      return;
    }
    if (ext - this.next >= this.capacity) {
      // Too far ahead: give up on everything older than what still fits.
      const newNext = ext - this.capacity + 1;
      for (let s = this.next; s < newNext && s <= this.highest; s++) this.clear(s);
      this.lost += newNext - this.next;
      this.next = newNext;
      this.skipped = true;
    }
    const i = ext % this.capacity;
    if (this.seqs[i] === ext) {
      this.duplicates++;
      return;
    }
    this.items[i] = item;
    this.seqs[i] = ext;
    this.arrivals[i] = nowMs;
    if (ext > this.highest) this.highest = ext;
  }

  /** The next in-order packet, or null while waiting for a gap to fill (or empty). */
  pop(nowMs: number): JitterOutput<T> | null {
    if (this.next < 0 || this.next > this.highest) return null;
    let i = this.next % this.capacity;
    if (this.seqs[i] !== this.next) {
      // A gap: wait for it unless the oldest packet behind it has waited too long.
      let s = this.next + 1;
      while (s <= this.highest && this.seqs[s % this.capacity] !== s) s++;
      if (s > this.highest) return null;
      if (nowMs - this.arrivals[s % this.capacity]! < this.maxDelayMs) return null;
      this.lost += s - this.next;
      this.next = s;
      this.skipped = true;
      i = s % this.capacity;
    }
    const item = this.items[i]!;
    const sequence = this.next & 0xffff;
    this.clear(this.next);
    this.next++;
    const lostBefore = this.skipped;
    this.skipped = false;
    return { item, sequence, lostBefore };
  }

  /** Sequence numbers missing before the highest received, not NACKed in the last nackIntervalMs (at most `max`). */
  missing(nowMs: number, max = 64): number[] {
    const out: number[] = [];
    if (this.next < 0) return out;
    for (let s = this.next; s < this.highest && out.length < max; s++) {
      const i = s % this.capacity;
      if (this.seqs[i] === s) continue;
      if (this.seqs[i] === -s - 2 && nowMs - this.nackedAt[i]! < this.nackIntervalMs) continue;
      this.seqs[i] = -s - 2; // marks "NACKed at nackedAt" for this sequence
      this.nackedAt[i] = nowMs;
      out.push(s & 0xffff);
    }
    return out;
  }

  private clear(ext: number): void {
    const i = ext % this.capacity;
    if (this.seqs[i] === ext) {
      this.items[i] = undefined;
      this.seqs[i] = -1;
    }
  }
}
