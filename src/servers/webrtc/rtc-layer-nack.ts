/**
 * Loss on the simulcast layers the RTC→RTMP bridge does not take: one
 * sequence tracker per layer (a jitter buffer that holds nothing but the
 * order), so that the publisher is asked (NACK, on the layer's SSRC) for
 * what its players would otherwise miss until the next keyframe. The
 * retransmitted packet is forwarded like any other; players reorder.
 */
import { RtpJitterBuffer } from '../../protocol/rtp/jitter-buffer.js';

export class LayerNack {
  private readonly trackers: (RtpJitterBuffer<true> | undefined)[] = [];

  onPacket(layer: number, sequence: number, nowMs: number): void {
    let b = this.trackers[layer];
    if (!b) this.trackers[layer] = b = new RtpJitterBuffer<true>({ capacity: 512, maxDelayMs: 150 });
    b.push(sequence, true, nowMs);
    while (b.pop(nowMs));
  }

  /** Sequence numbers of `layer` to ask for again now. */
  missing(layer: number, nowMs: number): number[] {
    const b = this.trackers[layer];
    if (!b) return [];
    while (b.pop(nowMs));
    return b.missing(nowMs);
  }
}
