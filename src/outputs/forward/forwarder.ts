/**
 * One forward: a published stream pushed over RTMP to one destination, for
 * as long as the stream is published. It is a player of the stream with a
 * bounded queue (a `Consumer`, as every player has): a slow or dead
 * destination costs the stream's players nothing; when the queue spans more
 * than `queue_length` the media is dropped and the push resumes at the next
 * keyframe. Every (re)connect starts with the metadata, the sequence headers
 * and the source's GOP (so at a keyframe). When the destination drops, it
 * reconnects with a growing delay, one log line per failure.
 */
import type { Logger } from '../../log/logger.js';
import type { MediaFrame } from '../../codec/media-frame.js';
import { clip } from '../../log/clip.js';
import { flvBodyFromFrame } from '../../format/flv.js';
import { MSG, encodeRtmpMessage, mediaChunkStream } from '../../protocol/rtmp/chunk-writer.js';
import { Consumer, type FrameSink } from '../../live/consumer.js';
import type { LiveSource } from '../../live/live-source.js';
import { writeBatch } from '../../core/socket-batch-writer.js';
import { RtmpClient } from '../../clients/rtmp-client.js';
import type { ForwardTarget } from './forward-target.js';

export type ForwardState = 'connecting' | 'forwarding' | 'backoff' | 'stopped';

export interface ForwarderOptions {
  /** `play.queue_length` in ms (SRS: forwarders use the players' queue length). */
  queueLengthMs: number;
  /** The RTMP chunk size sent to the destination (the vhost's `chunk_size`, as SRS). */
  chunkSize: number;
  log: Logger;
  connectTimeoutMs?: number;
  /** Reconnect delay: doubles from `minMs` per consecutive failure, up to `maxMs`. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

/** Reconnect failures in a row that each get a log line; after them, one line per this many (about a minute at the longest delay). */
const LOGGED_FAILURES = 5;
const LATER_FAILURE_LOG_EVERY = 12;

/** Overflow lines: one per episode, and not more often than this. */
const DROP_LOG_INTERVAL_MS = 10_000;

export class Forwarder implements FrameSink {
  state: ForwardState = 'connecting';
  /** Connection attempts after the first. */
  reconnects = 0;
  lastError = '';
  readonly startedAt = Date.now();
  private client: RtmpClient | null = null;
  private consumer: Consumer | null = null;
  private bytesBefore = 0;
  private droppedBefore = 0;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  private lastDropLog = 0;
  private dropsSinceLog = 0;

  constructor(
    readonly target: ForwardTarget,
    private readonly source: LiveSource,
    private readonly opts: ForwarderOptions,
  ) {}

  get bytesSent(): number {
    return this.bytesBefore + (this.consumer?.bytesSent ?? 0);
  }

  /** Media frames dropped because the destination did not keep up (or while waiting for a keyframe). */
  get framesDropped(): number {
    return this.droppedBefore + (this.consumer?.framesDropped ?? 0);
  }

  start(): void {
    void this.connect();
  }

  /** Every frame of the stream; only kept while connected (a reconnect starts from the GOP). */
  onFrame(frame: MediaFrame): void {
    const c = this.consumer;
    if (!c) return;
    const before = c.queuedFrames;
    const droppedBefore = c.framesDropped;
    c.enqueue(frame);
    if (c.queuedFrames < before) this.onOverflow(c.framesDropped - droppedBefore);
    this.scheduleFlush();
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.consumer?.flush();
    this.release();
    this.opts.log.info({ destination: this.target.url, bytes: this.bytesSent, reconnects: this.reconnects }, 'forward stopped');
  }

  // FrameSink -------------------------------------------------------------

  encode(frame: MediaFrame): Buffer {
    const type = frame.kind === 'video' ? MSG.VIDEO : frame.kind === 'audio' ? MSG.AUDIO : MSG.DATA_AMF0;
    const streamId = this.client?.streamId ?? 1;
    return encodeRtmpMessage({ type, streamId, timestamp: frame.dts, payload: flvBodyFromFrame(frame) }, this.opts.chunkSize, mediaChunkStream(type));
  }

  write(chunks: Buffer[]): boolean {
    const socket = this.client?.socket;
    if (!socket || socket.destroyed) return false;
    return writeBatch(socket, chunks);
  }

  end(): void {
    // The forwarder follows publish/unpublish, not the players' end of stream.
  }

  // -----------------------------------------------------------------------

  private async connect(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    const t = this.target;
    let client: RtmpClient | null = null;
    try {
      client = await RtmpClient.connect({ host: t.host, port: t.port, app: t.app, tcUrl: t.tcUrl, tls: t.tls, timeoutMs: this.opts.connectTimeoutMs ?? 10_000 });
      if (this.stopped()) {
        client.socket.destroy();
        return;
      }
      client.socket.write(client.conn.setChunkSize(this.opts.chunkSize));
      const code = await client.publish(t.publishName, this.opts.connectTimeoutMs ?? 10_000);
      if (code !== 'NetStream.Publish.Start') throw new Error(`destination answered ${code || 'nothing'}`);
    } catch (err) {
      client?.socket.destroy();
      this.failed((err as Error).message);
      return;
    }
    if (this.stopped()) {
      client.socket.destroy();
      return;
    }
    this.attach(client);
  }

  /** A method, not a field test: the state changes across the awaits above. */
  private stopped(): boolean {
    return this.state === 'stopped';
  }

  private attach(client: RtmpClient): void {
    this.client = client;
    // Nothing the destination says later is waited for: keep no events (a long push would pile them up).
    client.onEvent = () => {
      client.events.length = 0;
    };
    client.events.length = 0;
    client.socket.on('drain', () => this.consumer?.resume());
    client.socket.on('close', () => {
      if (this.client !== client) return;
      this.release();
      this.failed('destination closed the connection');
    });
    const consumer = new Consumer(`forward-${this.target.url}`, this, { queueLengthMs: this.opts.queueLengthMs, mwLatencyMs: 0 });
    this.consumer = consumer;
    const s = this.source;
    if (s.metadata) consumer.enqueue(s.metadata);
    if (s.videoHeader) consumer.enqueue(s.videoHeader);
    if (s.audioHeader) consumer.enqueue(s.audioHeader);
    const gop = s.gop.snapshot();
    if (gop.length === 0) consumer.waitForKeyframe();
    for (const f of gop) consumer.enqueue(f);
    consumer.flush();
    this.state = 'forwarding';
    this.failures = 0;
    this.lastError = '';
    this.opts.log.info({ destination: this.target.url, reconnects: this.reconnects }, 'forward started');
  }

  /** Forgets the connection (its bytes stay counted). */
  private release(): void {
    const c = this.consumer;
    if (c) {
      this.bytesBefore += c.bytesSent;
      this.droppedBefore += c.framesDropped;
    }
    this.consumer = null;
    const client = this.client;
    this.client = null;
    if (client) void client.close();
  }

  private failed(reason: string): void {
    if (this.state === 'stopped') return;
    this.state = 'backoff';
    this.lastError = clip(reason, 200);
    const min = this.opts.backoffMinMs ?? 1000;
    const max = this.opts.backoffMaxMs ?? 5000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures, 16));
    this.failures++;
    // A destination down for a day must not flood the log: every failure of a
    // run up to LOGGED_FAILURES, then one line per LATER_FAILURE_LOG_EVERY.
    if (this.failures <= LOGGED_FAILURES || this.failures % LATER_FAILURE_LOG_EVERY === 0) {
      this.opts.log.warn({ destination: this.target.url, reason: this.lastError, failures: this.failures, retryMs: delay }, 'forward failed, retrying');
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.reconnects++;
      void this.connect();
    }, delay);
  }

  private onOverflow(frames: number): void {
    this.dropsSinceLog += frames;
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.lastDropLog = now;
    this.opts.log.warn(
      { destination: this.target.url, droppedFrames: this.dropsSinceLog, queueLengthMs: this.opts.queueLengthMs },
      'forward destination too slow: queue dropped, resuming at the next keyframe',
    );
    this.dropsSinceLog = 0;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.consumer?.flush();
    });
  }
}
