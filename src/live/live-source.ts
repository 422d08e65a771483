/**
 * LiveSource: the hub of one stream (vhost/app/stream). One publisher feeds
 * it frames; it corrects timestamps once, remembers metadata, sequence headers
 * and the GOP, and hands each frame by reference to every consumer.
 *
 * Other parts (HLS, DVR, forward, bridges) attach as `SourceObserver`s and see
 * the same frames; nothing here knows about sockets or formats.
 */
import type { MediaFrame, VideoCodec, AudioCodec } from '../codec/media-frame.js';
import type { Consumer } from './consumer.js';
import { FlushTurn } from './flush-turn.js';
import { GopCache } from './gop-cache.js';
import { TimeJitter, type TimeJitterMode } from './time-jitter.js';

export interface SourcePlayConfig {
  gopCache: boolean;
  gopCacheMaxFrames: number;
  timeJitter: TimeJitterMode;
  /** A republish within this time keeps players connected; after it they get EOF. */
  republishWaitMs: number;
}

/** The one who publishes: the source can ask it to stop (kick, timeout, shutdown). */
export interface Publisher {
  readonly id: string;
  kick(reason: string): void;
}

/** Something that follows a source's life and frames (HLS, DVR, forward, stats). */
export interface SourceObserver {
  onPublish?(source: LiveSource): void;
  onFrame?(source: LiveSource, frame: MediaFrame): void;
  onUnpublish?(source: LiveSource): void;
  /** The number of players changed (edge pull starts with the first and stops after the last). */
  onConsumersChanged?(source: LiveSource, count: number): void;
}

export interface StreamInfo {
  video: { codec: VideoCodec } | null;
  audio: { codec: AudioCodec } | null;
}

export class LiveSource {
  publisher: Publisher | null = null;
  metadata: MediaFrame | null = null;
  videoHeader: MediaFrame | null = null;
  audioHeader: MediaFrame | null = null;
  readonly gop: GopCache;
  readonly jitter: TimeJitter;
  readonly consumers = new Set<Consumer>();
  readonly observers = new Set<SourceObserver>();
  /** When the source last had neither publisher nor consumer (ms, monotonic clock); 0 while in use. */
  idleSince = 0;
  /** Counts publishes over the source's life (a new one after each republish). */
  publishCount = 0;
  framesIn = 0;
  videoFramesIn = 0;
  bytesIn = 0;
  readonly createdAt = Date.now();

  private flushScheduled = false;
  /** The consumers flushed on one frame or in one realtime turn write together; reused (empty once finished). */
  private readonly turn = new FlushTurn();
  private mwTimer: NodeJS.Timeout | null = null;
  private endTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly vhost: string,
    readonly app: string,
    readonly stream: string,
    public config: SourcePlayConfig,
    private readonly now: () => number = monotonicMs,
  ) {
    this.gop = new GopCache(config.gopCache, config.gopCacheMaxFrames);
    this.jitter = new TimeJitter(config.timeJitter);
    this.idleSince = now();
  }

  get key(): string {
    return `${this.vhost}/${this.app}/${this.stream}`;
  }

  get active(): boolean {
    return this.publisher !== null;
  }

  /** Applies new vhost settings (SIGHUP reload) without dropping anyone. */
  reconfigure(config: SourcePlayConfig): void {
    this.config = config;
    this.gop.enabled = config.gopCache;
    this.gop.maxFrames = config.gopCacheMaxFrames;
    if (!config.gopCache) this.gop.clear();
    this.jitter.mode = config.timeJitter;
  }

  /** Takes the stream for a publisher. False when another publisher holds it. */
  publish(publisher: Publisher): boolean {
    if (this.publisher) return false;
    this.publisher = publisher;
    this.publishCount++;
    this.idleSince = 0;
    if (this.endTimer) {
      clearTimeout(this.endTimer);
      this.endTimer = null;
    }
    this.jitter.onPublish();
    for (const o of this.observers) o.onPublish?.(this);
    return true;
  }

  unpublish(publisher: Publisher): void {
    if (this.publisher !== publisher) return;
    this.publisher = null;
    this.gop.clear();
    this.flushAll();
    for (const o of this.observers) o.onUnpublish?.(this);
    if (this.consumers.size > 0) {
      // Players wait a little for a republish (an encoder restart), then get EOF.
      this.endTimer = setTimeout(() => this.endConsumers('publisher left'), this.config.republishWaitMs);
      this.endTimer.unref();
    }
    this.updateIdle();
  }

  /** One frame from the publisher. Timestamps are corrected here, once for every player. */
  onFrame(frame: MediaFrame): void {
    this.framesIn++;
    this.bytesIn += frame.payloadLength;
    frame.retime(this.jitter.correct(frame.dts, frame.kind === 'script'));
    // Kept frames are detached from the network read they came in, which an idle source would pin.
    if (frame.kind === 'script') {
      frame.detach();
      this.metadata = frame;
    } else if (frame.header) {
      frame.detach();
      if (frame.kind === 'video') this.videoHeader = frame;
      else this.audioHeader = frame;
    } else {
      if (frame.kind === 'video') this.videoFramesIn++;
      this.gop.push(frame);
    }
    try {
      for (const c of this.consumers) if (c.enqueue(frame)) c.flush(this.turn);
    } finally {
      this.turn.finish();
    }
    for (const o of this.observers) o.onFrame?.(this, frame);
    this.scheduleFlush();
  }

  /** A new player: it gets metadata, sequence headers and the GOP at once. */
  addConsumer(consumer: Consumer): void {
    this.consumers.add(consumer);
    this.idleSince = 0;
    if (this.metadata) consumer.enqueue(this.metadata);
    if (this.videoHeader) consumer.enqueue(this.videoHeader);
    if (this.audioHeader) consumer.enqueue(this.audioHeader);
    const gop = this.gop.snapshot();
    if (gop.length === 0) consumer.waitForKeyframe();
    for (const f of gop) consumer.enqueue(f);
    consumer.flush();
    this.ensureMwTimer();
    for (const o of this.observers) o.onConsumersChanged?.(this, this.consumers.size);
  }

  removeConsumer(consumer: Consumer): void {
    if (!this.consumers.delete(consumer)) return;
    for (const o of this.observers) o.onConsumersChanged?.(this, this.consumers.size);
    if (this.consumers.size === 0 && this.endTimer) {
      clearTimeout(this.endTimer);
      this.endTimer = null;
    }
    this.updateIdle();
  }

  info(): StreamInfo {
    return {
      video: this.videoHeader ? { codec: this.videoHeader.codec as VideoCodec } : null,
      audio: this.audioHeader ? { codec: this.audioHeader.codec as AudioCodec } : null,
    };
  }

  /** Ends every player and forgets all state: the source is about to be freed. */
  dispose(): void {
    this.endConsumers('source disposed');
    if (this.mwTimer) clearInterval(this.mwTimer);
    if (this.endTimer) clearTimeout(this.endTimer);
    this.mwTimer = null;
    this.endTimer = null;
    this.metadata = this.videoHeader = this.audioHeader = null;
    this.gop.clear();
    this.observers.clear();
  }

  private endConsumers(reason: string): void {
    this.endTimer = null;
    for (const c of [...this.consumers]) c.end(reason);
    this.consumers.clear();
    for (const o of this.observers) o.onConsumersChanged?.(this, 0);
    this.updateIdle();
  }

  private updateIdle(): void {
    if (this.publisher === null && this.consumers.size === 0) {
      if (this.idleSince === 0) this.idleSince = this.now();
      if (this.mwTimer) {
        clearInterval(this.mwTimer);
        this.mwTimer = null;
      }
    }
  }

  /** Realtime consumers are flushed once per event-loop turn in which frames arrived. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushRealtime);
  }

  private readonly flushRealtime = (): void => {
    this.flushScheduled = false;
    try {
      for (const c of this.consumers) if (c.realtime) c.flush(this.turn);
    } finally {
      this.turn.finish();
    }
  };

  private flushAll(): void {
    for (const c of this.consumers) c.flush();
  }

  /**
   * Merge-write consumers flush when their queue spans mw_latency; this timer
   * catches what is left when the stream slows or stops.
   */
  private ensureMwTimer(): void {
    if (this.mwTimer) return;
    this.mwTimer = setInterval(() => this.flushAll(), MW_TIMER_MS);
    this.mwTimer.unref();
  }
}

/** How often the merge-write safety flush runs (ms). */
const MW_TIMER_MS = 500;

export function monotonicMs(): number {
  return performance.now();
}
