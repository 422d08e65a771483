/**
 * A bitrate over a sliding time window, from samples of a cumulative byte
 * counter (SRS's `kbps.recv_30s` / `send_30s`). Sampling is the caller's
 * business (a timer every few seconds); the window only keeps what it needs.
 */
export class RateWindow {
  private readonly times: number[] = [];
  private readonly bytes: number[] = [];

  constructor(
    /** The window (ms). */
    readonly windowMs = 30_000,
  ) {}

  /** Records the counter's value at `nowMs`; forgets samples older than the window. */
  sample(nowMs: number, cumulativeBytes: number): void {
    this.times.push(nowMs);
    this.bytes.push(cumulativeBytes);
    // Keep one sample at or before the window start so the span covers the whole window.
    while (this.times.length > 2 && nowMs - this.times[1]! >= this.windowMs) {
      this.times.shift();
      this.bytes.shift();
    }
  }

  /** Kilobits per second over the window (or over what was seen so far, when younger). 0 before two samples. */
  kbps(): number {
    const n = this.times.length;
    if (n < 2) return 0;
    const span = this.times[n - 1]! - this.times[0]!;
    if (span <= 0) return 0;
    const delta = this.bytes[n - 1]! - this.bytes[0]!;
    return Math.max(0, Math.round((delta * 8) / span));
  }

  get samples(): number {
    return this.times.length;
  }
}
