/**
 * `hls_dts_directly off`: AAC timestamps rebuilt from the sample count.
 * FLV/RTMP timestamps are whole milliseconds, so 1024-sample AAC frames at
 * 44.1 kHz (23.22 ms) arrive as 23/23/24 ms steps; some encoders jitter
 * more. With this on, each frame's DTS is base + samples / rate, resynced
 * to the real timestamp when it drifts past SYNC_MS or goes backwards (as
 * nginx-rtmp and SRS's AAC jitter do). `on` (the default) muxes each frame
 * at its own timestamp. Pure arithmetic, no I/O.
 */

/** Samples per AAC frame (AAC-LC; the ASC's core rate goes with it for HE-AAC too). */
const AAC_FRAME_SAMPLES = 1024;
/** Beyond this gap between the estimate and the real timestamp, start again from the real one. */
const SYNC_MS = 100;

export class AacDtsEstimator {
  private baseMs = -1;
  private samples = 0;
  private lastInMs = -1;

  constructor(public sampleRate: number) {}

  /** The DTS (ms, fractional) to mux this frame at. */
  next(dtsMs: number): number {
    if (this.sampleRate <= 0) return dtsMs;
    if (this.baseMs < 0 || dtsMs < this.lastInMs) this.resync(dtsMs);
    let est = this.baseMs + (this.samples * 1000) / this.sampleRate;
    if (Math.abs(est - dtsMs) > SYNC_MS) {
      this.resync(dtsMs);
      est = dtsMs;
    }
    this.lastInMs = dtsMs;
    this.samples += AAC_FRAME_SAMPLES;
    return est;
  }

  reset(): void {
    this.baseMs = -1;
    this.samples = 0;
    this.lastInMs = -1;
  }

  private resync(dtsMs: number): void {
    this.baseMs = dtsMs;
    this.samples = 0;
  }
}
