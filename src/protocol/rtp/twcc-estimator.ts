/**
 * A sender's bandwidth estimate from transport-wide-cc feedback (sans-IO):
 * the sender records each packet it numbers (size, send time), and each
 * feedback (parseTwccFeedback) says which arrived and when. Two signals, as
 * in GCC (draft-ietf-rmcat-gcc-02) but simpler:
 * - loss (over windows of LOSS_WINDOW packets): over 10 % lost cuts the
 *   estimate, under 2 % lets it grow;
 * - delay: the one-way delay (arrival − send, offset unknown) above its
 *   running minimum is queueing; a queue over QUEUE_OVERUSE_MS, or a
 *   rising delay trend (least-squares slope over the last feedbacks) with a
 *   queue over QUEUE_RISING_MS, is overuse.
 * On either (overuse for OVERUSE_HOLD_US on end: a busy receiver's or
 * sender's event loop makes short delay spikes), the estimate drops to 0.85 × the rate the receiver got (at
 * most once per DECREASE_GAP_US); with neither, it grows 8 % per second up
 * to maxBps. There is no probing: a sender that sends less than the link
 * takes learns it has room only by the estimate growing while nothing hurts.
 * Times in µs from the caller's clock; arrival times on the receiver's clock.
 */
import type { TwccFeedback } from './twcc.js';

const RING = 8192;
const LOSS_HIGH = 0.1;
const LOSS_LOW = 0.02;
/** Loss is measured over this many reported packets (a feedback has a handful at low rates). */
const LOSS_WINDOW = 50;
const DECREASE_FACTOR = 0.85;
const GROWTH_PER_S = 1.08;
const DECREASE_GAP_US = 300_000;
const OVERUSE_HOLD_US = 500_000;
const QUEUE_OVERUSE_MS = 150;
const QUEUE_RISING_MS = 25;
/** Delay slope (ms of delay per ms of time) that counts as rising. */
const TREND_RISING = 0.02;
const TREND_SAMPLES = 20;
/** The received rate is measured over spans of at least this much arrival time. */
const ACKED_SPAN_US = 500_000;
/** The minimum delay is forgotten this slowly (clock drift, a route change). */
const MIN_DELAY_WINDOW_US = 10_000_000;

export interface EstimatorOptions {
  /** Until feedback says otherwise (default maxBps: no limit known). */
  initialBps?: number;
  minBps?: number;
  maxBps?: number;
}

export type EstimatorState = 'increase' | 'hold' | 'decrease';

export class TwccBandwidthEstimator {
  private readonly sentSeq = new Int32Array(RING).fill(-1);
  private readonly sentUs = new Float64Array(RING);
  private readonly sentBytes = new Uint16Array(RING);
  private readonly minBps: number;
  private readonly maxBps: number;
  estimateBps: number;
  /** What the receiver got, bits per second (0 until measured). */
  ackedBps = 0;
  /** The loss fraction of the last full window. */
  loss = 0;
  private windowTotal = 0;
  private windowLost = 0;
  /** Queueing delay (ms) of the last feedback. */
  queueMs = 0;
  state: EstimatorState = 'hold';
  feedbacks = 0;
  private lastUpdateUs = -1;
  private lastDecreaseUs = -Infinity;
  private overuseSinceUs = -1;
  private ackedBytes = 0;
  private ackedFromUs = -1;
  private ackedToUs = -1;
  private minDelayUs = Infinity;
  private minDelayAtUs = 0;
  private readonly trendT: number[] = [];
  private readonly trendD: number[] = [];

  constructor(o: EstimatorOptions = {}) {
    this.minBps = o.minBps ?? 50_000;
    this.maxBps = o.maxBps ?? 20_000_000;
    this.estimateBps = o.initialBps ?? this.maxBps;
  }

  /** A packet numbered `seq` (16 bits) of `bytes` left now. */
  onSent(seq: number, bytes: number, nowUs: number): void {
    const i = seq & (RING - 1);
    this.sentSeq[i] = seq;
    this.sentUs[i] = nowUs;
    this.sentBytes[i] = Math.min(bytes, 0xffff);
  }

  /** One feedback; returns the new estimate. */
  onFeedback(fb: TwccFeedback, nowUs: number): number {
    let total = 0;
    let lost = 0;
    let delaySum = 0;
    let arrivalSum = 0;
    let received = 0;
    for (const p of fb.packets) {
      const i = p.sequence & (RING - 1);
      if (this.sentSeq[i] !== p.sequence) continue;
      total++;
      if (p.arrivalUs < 0) {
        lost++;
        continue;
      }
      const d = p.arrivalUs - this.sentUs[i]!;
      if (d < this.minDelayUs || nowUs - this.minDelayAtUs > MIN_DELAY_WINDOW_US) {
        this.minDelayUs = d;
        this.minDelayAtUs = nowUs;
      }
      delaySum += d;
      arrivalSum += p.arrivalUs;
      received++;
      this.ackedBytes += this.sentBytes[i]!;
      if (this.ackedFromUs < 0 || p.arrivalUs < this.ackedFromUs) this.ackedFromUs = p.arrivalUs;
      if (p.arrivalUs > this.ackedToUs) this.ackedToUs = p.arrivalUs;
    }
    if (total === 0) return this.estimateBps;
    this.feedbacks++;
    this.windowTotal += total;
    this.windowLost += lost;
    if (this.windowTotal >= LOSS_WINDOW) {
      this.loss = this.windowLost / this.windowTotal;
      this.windowTotal = 0;
      this.windowLost = 0;
    }
    if (this.ackedToUs - this.ackedFromUs >= ACKED_SPAN_US) {
      this.ackedBps = (this.ackedBytes * 8 * 1e6) / (this.ackedToUs - this.ackedFromUs);
      this.ackedBytes = 0;
      this.ackedFromUs = -1;
      this.ackedToUs = -1;
    }
    let slope = 0;
    if (received > 0) {
      const delayUs = delaySum / received;
      this.queueMs = (delayUs - this.minDelayUs) / 1000;
      this.trendT.push(arrivalSum / received / 1000);
      this.trendD.push(delayUs / 1000);
      if (this.trendT.length > TREND_SAMPLES) {
        this.trendT.shift();
        this.trendD.shift();
      }
      slope = leastSquaresSlope(this.trendT, this.trendD);
    }
    const signal = this.queueMs > QUEUE_OVERUSE_MS || (slope > TREND_RISING && this.queueMs > QUEUE_RISING_MS);
    if (!signal) this.overuseSinceUs = -1;
    else if (this.overuseSinceUs < 0) this.overuseSinceUs = nowUs;
    const overuse = signal && nowUs - this.overuseSinceUs >= OVERUSE_HOLD_US;
    const dtS = this.lastUpdateUs < 0 ? 0 : Math.min(1, (nowUs - this.lastUpdateUs) / 1e6);
    this.lastUpdateUs = nowUs;
    if (overuse || this.loss > LOSS_HIGH) {
      this.state = 'decrease';
      if (nowUs - this.lastDecreaseUs >= DECREASE_GAP_US) {
        const base = this.ackedBps > 0 ? this.ackedBps : this.estimateBps;
        this.estimateBps = Math.max(this.minBps, Math.min(this.estimateBps, DECREASE_FACTOR * base));
        this.lastDecreaseUs = nowUs;
      }
    } else if (this.loss < LOSS_LOW && !signal && this.queueMs < QUEUE_RISING_MS) {
      this.state = 'increase';
      this.estimateBps = Math.min(this.maxBps, this.estimateBps * Math.pow(GROWTH_PER_S, dtS));
    } else this.state = 'hold';
    return this.estimateBps;
  }
}

function leastSquaresSlope(t: readonly number[], d: readonly number[]): number {
  const n = t.length;
  if (n < 3) return 0;
  let mt = 0;
  let md = 0;
  for (let i = 0; i < n; i++) {
    mt += t[i]!;
    md += d[i]!;
  }
  mt /= n;
  md /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (t[i]! - mt) * (d[i]! - md);
    den += (t[i]! - mt) * (t[i]! - mt);
  }
  return den > 0 ? num / den : 0;
}
