/**
 * One live remux player (HTTP-TS, HTTP-AAC, HTTP-MP3, WebSocket-FLV,
 * WebSocket-TS): a consumer of the source whose frames go out in the
 * format's shared bytes, over an HTTP chunked response or WebSocket binary
 * messages. Backpressure pauses the consumer until the socket drains.
 */
import type { MediaFrame } from '../../codec/media-frame.js';
import type { Logger } from '../../log/logger.js';
import { Consumer, type FrameSink } from '../../live/consumer.js';
import type { LiveSource } from '../../live/live-source.js';
import type { VhostConfig } from '../../config/vhost-config.js';
import { streamUrl } from '../../protocol/stream-url.js';
import { consumerOptions, sourcePlayConfig, type ServerContext } from '../../core/server-context.js';
import type { ClientSession, ClientType } from '../../core/client-registry.js';
import { remuxEncoder, type RemuxEncoder, type RemuxFormat } from './remux-encoders.js';
import type { AudioFastCache } from './audio-fast-cache.js';

const EMPTY = Buffer.alloc(0);

/** Where a player's bytes go: an HTTP response or a WebSocket. */
export interface RemuxTransport {
  /** Writes a batch; false when the peer is slow (call the drain callback later). */
  write(chunks: Buffer[]): boolean;
  onDrain(cb: () => void): void;
  onClose(cb: () => void): void;
  /** Ends cleanly (stream over). */
  end(): void;
  /** Cuts the connection (kick, shutdown). */
  destroy(): void;
  bytesIn(): number;
  bytesOut(): number;
}

export interface RemuxPlayInfo {
  id: string;
  ip: string;
  vhost: VhostConfig;
  app: string;
  stream: string;
  param: string;
  tcUrl: string;
  pageUrl: string;
  format: RemuxFormat;
  /** 'http' or 'ws', for logs. */
  via: string;
}

export class RemuxPlaySession implements ClientSession, FrameSink {
  readonly createdAt = Date.now();
  readonly type: ClientType = 'flv-play';
  readonly id: string;
  readonly ip: string;
  readonly vhost: string;
  readonly app: string;
  readonly stream: string;
  readonly param: string;
  readonly tcUrl: string;
  readonly pageUrl: string;
  private readonly log: Logger;
  private readonly source: LiveSource;
  private readonly consumer: Consumer;
  private readonly encoder: RemuxEncoder;
  private closed = false;
  /** fast_cache was sent: audio up to this dts (the GOP cache's copies) is not sent again. */
  private skipAudioUpToDts: number | null = null;

  constructor(
    private readonly ctx: ServerContext,
    private readonly info: RemuxPlayInfo,
    private readonly transport: RemuxTransport,
    fastCache: AudioFastCache | null = null,
  ) {
    this.id = info.id;
    this.ip = info.ip;
    this.vhost = info.vhost.name;
    this.app = info.app;
    this.stream = info.stream;
    this.param = info.param;
    this.tcUrl = info.tcUrl;
    this.pageUrl = info.pageUrl;
    this.log = ctx.log.child({ cid: this.id, stream: streamUrl(this.vhost, this.app, this.stream) });
    this.source = ctx.sources.getOrCreate(this.vhost, this.app, this.stream, sourcePlayConfig(info.vhost));
    const remux = info.vhost.httpRemux;
    const guess = remux.guessHasAv && this.source.active;
    this.encoder = remuxEncoder(
      info.format,
      this.source,
      guess ? this.source.audioHeader !== null : remux.hasAudio,
      guess ? this.source.videoHeader !== null : remux.hasVideo,
    );
    this.consumer = new Consumer(this.id, this, consumerOptions(info.vhost));
    ctx.clients.add(this);
    const first = this.encoder.start();
    if (first) transport.write([first]);
    if ((info.format === 'aac' || info.format === 'mp3') && fastCache && fastCache.size > 0 && this.source.active) this.sendFastCache(fastCache);
    transport.onDrain(() => this.consumer.resume());
    transport.onClose(() => this.cleanup('peer closed'));
    this.source.addConsumer(this.consumer);
    this.log.info({ ip: this.ip, format: info.format, via: info.via, active: this.source.active }, 'live remux play started');
  }

  bytesIn(): number {
    return this.transport.bytesIn();
  }

  bytesOut(): number {
    return this.transport.bytesOut();
  }

  encode(frame: MediaFrame): Buffer {
    if (this.skipAudioUpToDts !== null && frame.kind === 'audio' && !frame.header) {
      if (frame.dts <= this.skipAudioUpToDts) return EMPTY;
      this.skipAudioUpToDts = null;
    }
    return this.encoder.encode(frame);
  }

  /** SRS's fast_cache: the last seconds of audio at once, before the live frames (and instead of the GOP's audio). */
  private sendFastCache(cache: AudioFastCache): void {
    // The encoder learns the audio config (ADTS) from the sequence header.
    if (this.source.audioHeader) this.encoder.encode(this.source.audioHeader);
    const frames = cache.snapshot();
    const out: Buffer[] = [];
    for (const f of frames) {
      const b = this.encoder.encode(f);
      if (b.length > 0) out.push(b);
    }
    this.skipAudioUpToDts = frames[frames.length - 1]!.dts;
    if (out.length > 0) this.transport.write(out);
  }

  write(chunks: Buffer[]): boolean {
    if (this.closed) return false;
    let n = 0;
    for (const c of chunks) if (c.length > 0) chunks[n++] = c;
    chunks.length = n;
    if (n === 0) return true;
    return this.transport.write(chunks);
  }

  end(reason: string): void {
    this.cleanup(reason);
    this.transport.end();
  }

  close(reason: string): void {
    this.cleanup(reason);
    this.transport.destroy();
  }

  private cleanup(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.source.removeConsumer(this.consumer);
    this.consumer.closed = true;
    this.ctx.clients.remove(this);
    this.ctx.admission.notify('onStop', this, this.log);
    this.log.info({ reason, framesSent: this.consumer.framesSent, framesDropped: this.consumer.framesDropped }, 'live remux play stopped');
  }
}
