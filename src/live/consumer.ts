/**
 * A consumer is one player's seat at a live source: a bounded queue of shared
 * frames and the policy that moves them to the player's socket.
 *
 * - Merge-write (SRS's mw_latency): frames are written once the queue spans
 *   `mwLatencyMs`, as one batch (one corked write / writev) per player.
 * - Realtime (`min_latency on` or `mw_latency 0`): the source flushes every
 *   consumer once per event-loop turn in which frames arrived.
 * - Bounded: when the queue spans more than `queueLengthMs` (a slow player or
 *   a full socket), every media frame is dropped and the player restarts at
 *   the next video keyframe. Memory per player never grows with its slowness.
 */
import type { MediaFrame } from '../codec/media-frame.js';
import type { FlushTurn } from './flush-turn.js';
import { FrameQueue } from './frame-queue.js';

export interface FrameSink {
  /** The frame's bytes in this sink's format; cached on the frame, shared by every player of the format. */
  encode(frame: MediaFrame): Buffer;
  /**
   * Writes a batch. Returns false when the socket is full; the sink then calls `consumer.resume()` on drain.
   * With a turn, the sink may leave the write to the turn's end (see FlushTurn).
   */
  write(chunks: Buffer[], turn?: FlushTurn): boolean;
  /** The source is gone for good (publisher left and did not come back): end the stream. */
  end(reason: string): void;
}

export interface ConsumerOptions {
  queueLengthMs: number;
  /** 0 = realtime. */
  mwLatencyMs: number;
}

export class Consumer {
  private readonly queue = new FrameQueue();
  private blocked = false;
  /** dts of the oldest media frame in the queue, -1 when there is none. */
  private firstMediaDts = -1;
  /** dts of the newest media frame seen, to estimate the gap to the next one. */
  private lastMediaDts = -1;
  private waitKeyframe = false;
  private hasVideo = false;
  paused = false;
  closed = false;
  bytesSent = 0;
  framesSent = 0;
  framesDropped = 0;

  constructor(
    readonly id: string,
    private readonly sink: FrameSink,
    public options: ConsumerOptions,
  ) {}

  get realtime(): boolean {
    return this.options.mwLatencyMs <= 0;
  }

  get queuedFrames(): number {
    return this.queue.length;
  }

  /** Start at the next keyframe (no GOP cache, or after a drop or a pause). */
  waitForKeyframe(): void {
    this.waitKeyframe = true;
  }

  /** Called by the source for every frame. Returns true when the consumer wants a flush now. */
  enqueue(frame: MediaFrame): boolean {
    if (this.closed) return false;
    const control = frame.header || frame.kind === 'script';
    if (frame.kind === 'video') this.hasVideo = true;
    if (!control) {
      if (this.paused) return false;
      if (this.waitKeyframe) {
        if (frame.kind === 'video' && frame.keyframe) this.waitKeyframe = false;
        else if (frame.kind === 'video' || this.hasVideo) {
          this.framesDropped++;
          return false;
        }
      }
    }
    this.queue.push(frame);
    if (!control && this.firstMediaDts < 0) this.firstMediaDts = frame.dts;
    // Headers and metadata keep the time they arrived; only media measures the queue.
    const span = this.firstMediaDts < 0 ? 0 : frame.dts - this.firstMediaDts;
    if (span > this.options.queueLengthMs) {
      this.dropToKeyframe();
      return false;
    }
    if (this.blocked || this.realtime) return false;
    // Flush when waiting for the next frame (about one gap away) would hold
    // the oldest frame longer than mw_latency: the added delay stays within it.
    const gap = control || this.lastMediaDts < 0 ? 0 : Math.max(0, frame.dts - this.lastMediaDts);
    if (!control) this.lastMediaDts = frame.dts;
    return span + gap >= this.options.mwLatencyMs;
  }

  /** Writes everything queued, unless the socket is full; within `turn` when the source flushes several consumers at once. */
  flush(turn?: FlushTurn): void {
    if (this.blocked || this.closed || this.queue.length === 0) return;
    const chunks: Buffer[] = new Array(this.queue.length);
    let n = 0;
    let bytes = 0;
    for (let f = this.queue.shift(); f !== undefined; f = this.queue.shift()) {
      const b = this.sink.encode(f);
      chunks[n++] = b;
      bytes += b.length;
    }
    this.firstMediaDts = -1;
    this.bytesSent += bytes;
    this.framesSent += n;
    if (!this.sink.write(chunks, turn)) this.blocked = true;
  }

  /** The sink drained: continue. */
  resume(): void {
    this.blocked = false;
    this.flush();
  }

  /** The source ended for good. */
  end(reason: string): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.sink.end(reason);
  }

  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    if (!paused) this.waitKeyframe = true;
  }

  /** Keeps sequence headers and metadata (the player may not have them yet), drops all media. */
  private dropToKeyframe(): void {
    const keep: MediaFrame[] = [];
    for (let f = this.queue.shift(); f !== undefined; f = this.queue.shift()) {
      if (f.header || f.kind === 'script') keep.push(f);
      else this.framesDropped++;
    }
    for (const f of keep) this.queue.push(f);
    this.firstMediaDts = -1;
    this.waitKeyframe = true;
  }
}
