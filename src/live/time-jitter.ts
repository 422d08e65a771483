/**
 * Timestamp jitter correction, SRS's `play.time_jitter` (SRS-CONTRACTS §5.8).
 *
 * Sluice corrects once per source rather than once per player: every player of
 * a source then shares one timeline, which is what lets the serialized bytes of
 * a frame be shared by all of them (docs/DECISIONS.md). The state survives a
 * republish so that players who stay connected see a monotonic timeline.
 */
export type TimeJitterMode = 'full' | 'zero' | 'off';

/** A delta outside ±250 ms is a jump (encoder restart, wrap), not time passing. */
const MAX_JUMP_MS = 250;
/** A jump is replaced by this delta, as SRS does. */
const JUMP_REPLACEMENT_MS = 10;

export class TimeJitter {
  private lastOriginal = -1;
  private lastCorrected = 0;
  private zeroBase = -1;

  constructor(public mode: TimeJitterMode) {}

  /** Called when a new publisher starts: `zero` rebases on its first packet. */
  onPublish(): void {
    this.zeroBase = -1;
  }

  /** The last corrected frame's original timestamp minus its corrected one (an ABR rendition's place on its source's timeline). */
  get offsetMs(): number {
    if (this.mode === 'zero') return Math.max(0, this.zeroBase);
    if (this.mode === 'full') return this.lastOriginal < 0 ? 0 : this.lastOriginal - this.lastCorrected;
    return 0;
  }

  correct(ts: number, isMetadata: boolean): number {
    switch (this.mode) {
      case 'off':
        return ts;
      case 'zero':
        if (this.zeroBase < 0) this.zeroBase = ts;
        return ts - this.zeroBase;
      case 'full': {
        if (isMetadata) return 0;
        if (this.lastOriginal < 0) {
          this.lastOriginal = ts;
          this.lastCorrected = 0;
          return 0;
        }
        let delta = ts - this.lastOriginal;
        if (delta < -MAX_JUMP_MS || delta > MAX_JUMP_MS) delta = JUMP_REPLACEMENT_MS;
        this.lastOriginal = ts;
        this.lastCorrected = Math.max(0, this.lastCorrected + delta);
        return this.lastCorrected;
      }
    }
  }
}
