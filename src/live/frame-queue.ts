/**
 * A player's queue of frames waiting to be written: a growable ring of
 * references (frames are shared, never copied per player).
 */
import type { MediaFrame } from '../codec/media-frame.js';

export class FrameQueue {
  private ring: (MediaFrame | undefined)[];
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 32) {
    this.ring = new Array(initialCapacity);
  }

  get length(): number {
    return this.count;
  }

  push(frame: MediaFrame): void {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) % this.ring.length] = frame;
    this.count++;
  }

  shift(): MediaFrame | undefined {
    if (this.count === 0) return undefined;
    const f = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    return f;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const next: (MediaFrame | undefined)[] = new Array(this.ring.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = next;
    this.head = 0;
  }
}
