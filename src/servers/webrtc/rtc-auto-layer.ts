/**
 * The automatic simulcast layer of a WHEP player that did not pin one: from
 * the player's bandwidth estimate (twcc-estimator.ts) and the layers'
 * bitrates (rtc-stream.ts ranks them by payload bytes), down one or more
 * layers when the estimate stays under the current layer's rate for
 * DOWN_HOLD_MS, up one layer when it stays over the next one's with room
 * for `upHoldMs`. An up move that is followed by a down move within
 * FAILED_UP_MS doubles the wait before the next up move (up to
 * MAX_UP_HOLD_MS): without probing, going up is the only way to learn the
 * link is too small, so it is tried ever more rarely. No I/O: times in ms.
 */
const DOWN_HOLD_MS = 1500;
const FIRST_UP_HOLD_MS = 5000;
const MAX_UP_HOLD_MS = 60_000;
const FAILED_UP_MS = 15_000;
/** Payload rate × this ≈ the wire rate (RTP/SRTP/UDP/IP headers). */
const OVERHEAD = 1.15;
/** Going up needs this much room above the next layer. */
const UP_MARGIN = 1.1;

export class AutoLayer {
  private belowSince = -1;
  private aboveSince = -1;
  private lastUpAt = -Infinity;
  upHoldMs = FIRST_UP_HOLD_MS;

  /** The layer to forward, given the current one, each layer's payload bit rate and the estimate. */
  choose(current: number, layerBps: readonly number[], estimateBps: number, nowMs: number): number {
    const order = layerBps.map((_, i) => i).filter((i) => layerBps[i]! > 0).sort((a, b) => layerBps[b]! - layerBps[a]!);
    const pos = order.indexOf(current);
    if (pos < 0) return current;
    const need = (i: number): number => layerBps[i]! * OVERHEAD;
    if (pos < order.length - 1 && estimateBps < need(current)) {
      this.aboveSince = -1;
      if (this.belowSince < 0) this.belowSince = nowMs;
      if (nowMs - this.belowSince < DOWN_HOLD_MS) return current;
      this.belowSince = -1;
      if (nowMs - this.lastUpAt < FAILED_UP_MS) this.upHoldMs = Math.min(MAX_UP_HOLD_MS, this.upHoldMs * 2);
      for (let k = pos + 1; k < order.length; k++) if (need(order[k]!) <= estimateBps) return order[k]!;
      return order[order.length - 1]!;
    }
    this.belowSince = -1;
    if (pos > 0 && estimateBps > need(order[pos - 1]!) * UP_MARGIN) {
      if (this.aboveSince < 0) this.aboveSince = nowMs;
      if (nowMs - this.aboveSince < this.upHoldMs) return current;
      this.aboveSince = -1;
      this.lastUpAt = nowMs;
      return order[pos - 1]!;
    }
    this.aboveSince = -1;
    return current;
  }
}
