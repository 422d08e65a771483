/**
 * Segments slid out of a live playlist stay fetchable for a while: RFC 8216
 * §6.2.2 asks for the segment's duration plus that of the longest playlist
 * that listed it, because a player holding the previous playlist (hls.js
 * starts three segments from its end) still asks for them. Deleting them at
 * the slide, as SRS does, answers that player 404.
 *
 * Time here is media time, the durations of the segments listed since, so
 * the writer needs no timer while the stream runs and tests need no clock;
 * the owner drains what is left when the stream ends.
 */
export class RetiredSegments<T> {
  private items: { item: T; dueMs: number }[] = [];
  private elapsedMs = 0;

  /** `item` left the playlist now; it may go once `keepMs` more of media has been listed. */
  retire(item: T, keepMs: number): void {
    this.items.push({ item, dueMs: this.elapsedMs + keepMs });
  }

  /** A segment of `durMs` was listed: returns the items whose time is up (oldest first). */
  advance(durMs: number): T[] {
    this.elapsedMs += durMs;
    if (this.items.length === 0) return [];
    const due: T[] = [];
    const kept: { item: T; dueMs: number }[] = [];
    for (const e of this.items) {
      if (e.dueMs <= this.elapsedMs) due.push(e.item);
      else kept.push(e);
    }
    this.items = kept;
    return due;
  }

  /** Everything still held, emptied (the stream is disposed). */
  drain(): T[] {
    const all = this.items.map((e) => e.item);
    this.items = [];
    return all;
  }

  find(match: (item: T) => boolean): T | undefined {
    return this.items.find((e) => match(e.item))?.item;
  }

  get size(): number {
    return this.items.length;
  }
}
