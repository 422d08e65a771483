/**
 * One HTTP-FLV player: an endless chunked response fed by a consumer. The FLV
 * tag of each frame is serialized once and shared by every HTTP-FLV player.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/logger.js';
import type { MediaFrame } from '../../codec/media-frame.js';
import { encodeFlvHeader, flvTagOf } from '../../format/flv.js';
import { Consumer, type FrameSink } from '../../live/consumer.js';
import type { LiveSource } from '../../live/live-source.js';
import type { VhostConfig } from '../../config/server-config.js';
import { streamUrl } from '../../protocol/stream-url.js';
import { consumerOptions, sourcePlayConfig, type ServerContext } from '../../core/server-context.js';
import type { ClientSession, ClientType } from '../../core/client-registry.js';
import type { FlushTurn } from '../../live/flush-turn.js';
import { writeBatch } from '../../core/socket-batch-writer.js';
import { SocketWriter } from '../../core/socket-writer.js';

const CRLF = Buffer.from('\r\n', 'latin1');

export class HttpFlvSession implements ClientSession, FrameSink {
  readonly createdAt = Date.now();
  readonly type: ClientType = 'flv-play';
  readonly tcUrl: string;
  readonly pageUrl: string;
  private readonly log: Logger;
  private readonly source: LiveSource;
  private readonly consumer: Consumer;
  private closed = false;
  /** HTTP/1.x: the connection's socket, written without ServerResponse (see write). */
  private readonly writer: SocketWriter | null;
  /** Over HTTP/2 the socket is the whole connection's (other streams too): this stream's bytes, counted here. */
  private h2Sent = 0;

  constructor(
    readonly id: string,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly ctx: ServerContext,
    readonly ip: string,
    readonly vhost: string,
    readonly app: string,
    readonly stream: string,
    readonly param: string,
    vhostConfig: VhostConfig,
    headers: Record<string, string>,
  ) {
    this.tcUrl = `http://${req.headers.host ?? ''}/${app}`;
    this.pageUrl = typeof req.headers.referer === 'string' ? req.headers.referer : '';
    this.log = ctx.log.child({ cid: this.id, stream: streamUrl(vhost, app, stream) });
    this.source = ctx.sources.getOrCreate(vhost, app, stream, sourcePlayConfig(vhostConfig));
    this.consumer = new Consumer(this.id, this, consumerOptions(vhostConfig));
    ctx.clients.add(this);

    const socket = req.socket;
    this.writer = req.httpVersionMajor >= 2 ? null : new SocketWriter(socket);
    socket.setNoDelay(vhostConfig.tcpNodelay || vhostConfig.minLatency);
    socket.setTimeout(0);
    res.writeHead(200, { 'Content-Type': 'video/x-flv', 'Cache-Control': 'no-cache', ...headers });
    const remux = vhostConfig.httpRemux;
    const guess = remux.guessHasAv && this.source.active;
    const hasAudio = guess ? this.source.audioHeader !== null : remux.hasAudio;
    const hasVideo = guess ? this.source.videoHeader !== null : remux.hasVideo;
    const flvHeader = encodeFlvHeader(hasAudio, hasVideo);
    if (this.writer === null) this.h2Sent += flvHeader.length;
    res.write(flvHeader);
    socket.on('drain', this.onDrain);
    res.on('close', () => this.cleanup('peer closed'));
    res.on('error', (err) => this.log.debug({ err: err.message }, 'response error'));
    this.source.addConsumer(this.consumer);
    this.log.info({ ip, active: this.source.active }, 'HTTP-FLV play started');
  }

  bytesIn(): number {
    return this.writer === null ? 0 : this.req.socket.bytesRead;
  }

  bytesOut(): number {
    return this.writer?.bytesWritten ?? this.h2Sent;
  }

  encode(frame: MediaFrame): Buffer {
    return flvTagOf(frame);
  }

  /**
   * One HTTP chunk per batch, written straight to the socket: Node's
   * ServerResponse would frame every tag as its own chunk (three writes per
   * tag per player). The head and the final zero-length chunk still go
   * through `res`, so keep-alive stays correct. Over HTTP/2 the socket is
   * the shared connection: the batch goes through `res` as DATA frames.
   */
  write(chunks: Buffer[], turn?: FlushTurn): boolean {
    const socket = this.req.socket;
    if (this.res.destroyed || socket.destroyed) return false;
    let length = 0;
    for (const c of chunks) length += c.length;
    if (this.writer === null) {
      this.h2Sent += length;
      return writeBatch(this.res, chunks);
    }
    const framed = new Array<Buffer>(chunks.length + 2);
    framed[0] = chunkHeader(length);
    for (let i = 0; i < chunks.length; i++) framed[i + 1] = chunks[i]!;
    framed[chunks.length + 1] = CRLF;
    return this.writer.write(framed, turn);
  }

  /** The source ended: finish the chunked body so that keep-alive stays safe. */
  end(reason: string): void {
    this.log.info({ reason }, 'HTTP-FLV stream ended');
    this.cleanup(reason);
    this.res.end();
  }

  close(reason: string): void {
    this.cleanup(reason);
    this.res.destroy();
  }

  private readonly onDrain = (): void => this.consumer.resume();

  private cleanup(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.req.socket.off('drain', this.onDrain);
    this.source.removeConsumer(this.consumer);
    this.consumer.closed = true;
    this.ctx.clients.remove(this);
    this.ctx.admission.notify('onStop', this, this.log);
    this.log.info({ reason, framesSent: this.consumer.framesSent, framesDropped: this.consumer.framesDropped }, 'HTTP-FLV play stopped');
  }
}

let lastHeader = { length: -1, bytes: Buffer.alloc(0) };

/**
 * An HTTP chunk's size line. The players of a turn write batches of the same
 * length: one Buffer for all of them, so that they can share one write (core/socket-fanout.ts).
 */
function chunkHeader(length: number): Buffer {
  if (lastHeader.length !== length) lastHeader = { length, bytes: Buffer.from(`${length.toString(16)}\r\n`, 'latin1') };
  return lastHeader.bytes;
}
