/**
 * `http_remux.fast_cache` (SRS): the last N seconds of a stream's audio,
 * kept once per source, so that a new `.aac` / `.mp3` player gets them at
 * once (instead of the GOP cache) and starts playing without waiting for a
 * keyframe. Memory is bounded by the seconds and by a frame count.
 */
import type { MediaFrame } from '../../codec/media-frame.js';

/** Never more frames than this, whatever fast_cache says (about 60 s of AAC at 48 kHz). */
export const FAST_CACHE_MAX_FRAMES = 3000;

export class AudioFastCache {
  private frames: MediaFrame[] = [];
  private head = 0;

  /** @param seconds fast_cache; 0 keeps nothing. */
  constructor(public seconds: number) {}

  get size(): number {
    return this.frames.length - this.head;
  }

  /** Follows the source's frames: keeps audio media frames (not sequence headers) within the window. */
  push(f: MediaFrame): void {
    if (this.seconds <= 0 || f.kind !== 'audio' || f.header) return;
    // Timestamps went back (a republish): start over.
    const last = this.frames[this.frames.length - 1];
    if (last && f.dts < last.dts) this.clear();
    this.frames.push(f);
    const oldest = f.dts - this.seconds * 1000;
    while (this.head < this.frames.length && (this.frames[this.head]!.dts < oldest || this.frames.length - this.head > FAST_CACHE_MAX_FRAMES)) this.head++;
    // Compact now and then instead of shifting on every frame.
    if (this.head > 256 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }

  /** The cached frames, oldest first. */
  snapshot(): MediaFrame[] {
    return this.frames.slice(this.head);
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
  }
}
