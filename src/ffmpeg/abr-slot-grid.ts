/**
 * The ABR ladder's segment grid (docs/FFMPEG.md): every member of a ladder,
 * HLS or DASH, cuts at the first keyframe of each fragment-long slot of the
 * source's timeline, so that one segment number holds the same media in every
 * rendition. This is the one bookkeeping of slots both writers share.
 */

/** A keyframe this early before a slot boundary opens the new slot (timestamps rounded to ms). */
const ALIGN_SLACK_MS = 20;
/** How late after its slot's start the first keyframe seen may be to start a slot (FFmpeg's forced keyframes at a lower fps lag a frame). */
const FIRST_KEY_LATE_MS = 250;

export class AbrSlotGrid {
  /** The slot of the keyframe the first segment last refused to start at. */
  private firstKeySlot: number | null = null;
  /** The slot of the last segment cut (kept across a republish). */
  private lastSlot: number | null = null;

  /** `gridMs`: the fragment length now (it may change on reload); 0 or less for no grid. */
  constructor(private readonly gridMs: () => number) {}

  /** The slot of a time on the source's timeline. */
  slotOf(sourceMs: number): number {
    const gridMs = this.gridMs();
    return gridMs > 0 ? Math.floor((sourceMs + ALIGN_SLACK_MS) / gridMs) : 0;
  }

  /**
   * Whether the first segment may start at this keyframe: the first keyframe
   * of its slot (else its segment would hold part of a slot, and its number
   * the media of another rendition's whole slot). Known for the first keyframe
   * seen when it lies at a slot's start, else for a keyframe of a later slot
   * than the one seen before; never a slot already listed (a restarted
   * rendition's FFmpeg replays the GOP cache).
   */
  startsSlot(sourceMs: number): boolean {
    const gridMs = this.gridMs();
    const slot = this.slotOf(sourceMs);
    const seen = this.firstKeySlot;
    this.firstKeySlot = slot;
    if (gridMs <= 0) return true;
    if (this.lastSlot !== null && slot <= this.lastSlot) return false;
    if (seen === null) return (sourceMs + ALIGN_SLACK_MS) % gridMs <= FIRST_KEY_LATE_MS;
    return slot > seen;
  }

  /** A segment of this slot was cut. */
  cut(slot: number): void {
    this.lastSlot = slot;
  }

  /** The publisher left: the next one starts afresh, but no slot already listed is listed again. */
  unpublished(): void {
    this.firstKeySlot = null;
  }
}
