/**
 * GOP cache: the frames since the last video keyframe, so that a player who
 * joins starts decoding at once (SRS-CONTRACTS §5.1).
 */
import type { MediaFrame } from '../codec/media-frame.js';

/** After this many audio frames with no video, the stream is treated as pure audio. */
const PURE_AUDIO_THRESHOLD = 115;

export class GopCache {
  private frames: MediaFrame[] = [];
  private audioSinceVideo = 0;
  private hasKeyframe = false;

  constructor(
    public enabled: boolean,
    /** 0 = unlimited. */
    public maxFrames: number,
  ) {}

  get size(): number {
    return this.frames.length;
  }

  /** Frames a joining player receives after the sequence headers, oldest first. */
  snapshot(): readonly MediaFrame[] {
    return this.frames;
  }

  push(frame: MediaFrame): void {
    if (!this.enabled || frame.header || frame.kind === 'script') return;
    if (frame.kind === 'video') {
      this.audioSinceVideo = 0;
      if (frame.keyframe) {
        this.frames = [];
        this.hasKeyframe = true;
      }
      if (!this.hasKeyframe) return;
    } else {
      if (!this.hasKeyframe) return;
      this.audioSinceVideo++;
      if (this.audioSinceVideo > PURE_AUDIO_THRESHOLD) {
        this.clear();
        return;
      }
    }
    this.frames.push(frame);
    if (this.maxFrames > 0 && this.frames.length > this.maxFrames) this.clear();
  }

  clear(): void {
    this.frames = [];
    this.hasKeyframe = false;
  }
}
