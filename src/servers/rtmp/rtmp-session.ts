/**
 * One RTMP connection: joins a socket, the sans-IO RtmpServerConnection and a
 * LiveSource. A connection publishes or plays one stream (as SRS does).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import { randomId } from '../../log/logger.js';
import { clip } from '../../log/clip.js';
import { RtmpServerConnection, type RtmpServerEvent } from '../../protocol/rtmp/server-connection.js';
import { MSG } from '../../protocol/rtmp/chunk-writer.js';
import { generateRtmpUrl, parseStreamRequest, isSafeStreamName, streamUrl, type StreamRequest } from '../../protocol/stream-url.js';
import { frameFromFlvTag } from '../../format/flv.js';
import { Consumer } from '../../live/consumer.js';
import type { LiveSource, Publisher } from '../../live/live-source.js';
import type { VhostConfig } from '../../config/server-config.js';
import { consumerOptions, sourcePlayConfig, type ServerContext } from '../../core/server-context.js';
import type { ClientSession, ClientType } from '../../core/client-registry.js';
import type { AdmissionPoint, NotificationPoint, StreamLocation } from '../../core/session-policy.js';
import type { Denial } from '../../core/admission.js';
import { RtmpFrameSink } from './rtmp-frame-sink.js';

/** The message stream id every createStream gets (one stream per connection). */
const STREAM_ID = 1;
/** Until publish or play starts, a silent peer is cut after this long (ms). */
const HANDSHAKE_TIMEOUT_MS = 30_000;
/**
 * From accept until publish or play starts, however busy the peer is (one
 * byte every few seconds resets an idle timer, not this). Time spent waiting
 * for a policy (an HTTP callback) does not count: hooks have their own timeout.
 */
const PRE_AUTH_DEADLINE_MS = 10_000;

export class RtmpSession implements ClientSession, Publisher {
  readonly id = randomId();
  readonly ip: string;
  readonly createdAt = Date.now();
  type: ClientType = 'Unknown';
  vhost = '';
  app = '';
  stream = '';
  tcUrl = '';
  pageUrl = '';
  param = '';

  private readonly conn: RtmpServerConnection;
  private log: Logger;
  private vhostConfig: VhostConfig | null = null;
  private source: LiveSource | null = null;
  private consumer: Consumer | null = null;
  private sink: RtmpFrameSink | null = null;
  private chunkSize = 60000;
  private receivedBytes = 0;
  private lastMediaAt = 0;
  private publishStartedAt = 0;
  private publishTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Connect was accepted (on_close is owed). */
  private connected = false;
  /** FMLE-style clients (OBS, ffmpeg) announce with FCPublish and expect onFCPublish. */
  private fcPublish = false;
  /** The pre-auth deadline: time left, when it was last armed, its timer; null once publish or play started. */
  private deadlineLeft: number | null = PRE_AUTH_DEADLINE_MS;
  private deadlineArmedAt = 0;
  private deadlineTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: ServerContext,
    /** Leaves the connection limit's pre-auth budget (publish or play admitted). */
    private readonly authenticated: () => void = () => undefined,
  ) {
    this.ip = socket.remoteAddress ?? '';
    this.log = ctx.log.child({ cid: this.id });
    this.conn = new RtmpServerConnection();
    ctx.clients.add(this);
    // Small command replies must not wait for Nagle + delayed ACK (~40 ms per
    // round trip) before play starts; tcp_nodelay applies once media flows.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => this.close('timeout before publish or play'));
    this.armDeadline();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => this.cleanup('peer closed'));
    this.log.info({ ip: this.ip, port: socket.remotePort }, 'RTMP client connected');
  }

  private armDeadline(): void {
    if (this.deadlineLeft === null || this.deadlineTimer) return;
    this.deadlineArmedAt = Date.now();
    this.deadlineTimer = setTimeout(() => this.close(`no publish or play within ${PRE_AUTH_DEADLINE_MS} ms of connecting`), Math.max(0, this.deadlineLeft));
  }

  /** Stops the clock while a policy decides. */
  private holdDeadline(): void {
    if (!this.deadlineTimer || this.deadlineLeft === null) return;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.deadlineLeft -= Date.now() - this.deadlineArmedAt;
  }

  /** Publish or play started (or the session ended): no deadline, no pre-auth slot. */
  private endDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.deadlineLeft = null;
    this.authenticated();
  }

  bytesIn(): number {
    return this.receivedBytes;
  }

  bytesOut(): number {
    return this.bytesSent();
  }

  /** Node's count, or the player's writer's once playing (it also counts what the native writer sent). */
  private bytesSent(): number {
    return this.sink?.bytesWritten ?? this.socket.bytesWritten;
  }

  kick(reason: string): void {
    this.close(reason);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.log.info({ reason: clip(reason) }, 'RTMP session closing');
    this.cleanup(reason);
    this.socket.end();
    this.socket.destroySoon();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.receivedBytes += chunk.length;
    let events: RtmpServerEvent[];
    try {
      events = this.conn.feed(chunk);
    } catch (err) {
      this.log.warn({ ip: this.ip, stream: this.stream || undefined, err: clip((err as Error).message) }, 'RTMP protocol error, closing connection');
      this.cleanup('protocol error');
      this.socket.destroy();
      return;
    }
    this.run(events, 0);
  }

  /**
   * Handles events in order. When a handler waits for a policy (an HTTP
   * callback), the socket is paused and the rest of the events wait with it,
   * so nothing is reordered and nothing piles up in memory meanwhile.
   */
  private run(events: RtmpServerEvent[], from: number): void {
    for (let i = from; i < events.length; i++) {
      if (this.closed) return;
      let pending: Promise<void> | void;
      try {
        pending = this.onEvent(events[i]!);
      } catch (err) {
        this.log.error({ err }, 'RTMP session error, closing connection');
        this.close('internal error');
        return;
      }
      if (pending) {
        this.socket.pause();
        this.holdDeadline();
        pending.then(
          () => {
            if (this.closed) return;
            this.armDeadline();
            this.socket.resume();
            this.run(events, i + 1);
          },
          (err: unknown) => {
            this.log.error({ err }, 'RTMP session error, closing connection');
            this.close('internal error');
          },
        );
        return;
      }
    }
  }

  private send(data: Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  private onEvent(ev: RtmpServerEvent): Promise<void> | void {
    switch (ev.type) {
      case 'send':
        this.send(ev.data);
        return;
      case 'connect':
        return this.onConnect(ev.transactionId, ev.tcUrl, ev.pageUrl ?? '');
      case 'releaseStream':
        this.send(this.conn.callResult(ev.transactionId));
        return;
      case 'FCPublish':
        this.fcPublish = true;
        this.send(this.conn.callResult(ev.transactionId));
        return;
      case 'FCUnpublish':
        if (this.source?.publisher === this) {
          this.send(this.conn.onFCUnpublish());
          this.send(this.conn.unpublishSuccess(STREAM_ID));
        }
        this.send(this.conn.callResult(ev.transactionId));
        this.stopPublishing('FCUnpublish');
        return;
      case 'createStream':
        this.send(this.conn.createStreamResult(ev.transactionId, STREAM_ID));
        return;
      case 'getStreamLength':
        this.send(this.conn.getStreamLengthResult(ev.transactionId, 0));
        return;
      case 'publish':
        return this.onPublish(ev.streamName, ev.publishType);
      case 'play':
        return this.onPlay(ev.streamName);
      case 'pause':
        if (this.consumer) {
          this.consumer.setPaused(ev.pause);
          this.send(this.conn.pauseNotify(STREAM_ID, ev.pause));
        }
        return;
      case 'deleteStream':
      case 'closeStream':
        this.stopPublishing(ev.type);
        this.stopPlaying();
        return;
      case 'media':
        this.onMedia(ev.messageType, ev.timestamp, ev.payload);
        return;
      default:
        return;
    }
  }

  private onConnect(transactionId: number, tcUrl: string, pageUrl: string): Promise<void> | void {
    this.tcUrl = tcUrl;
    this.pageUrl = pageUrl;
    const req = parseStreamRequest(tcUrl, '');
    const vhost = this.ctx.vhost(req.vhost);
    if (!req.schema || !req.vhost || req.port === 0) {
      this.reject(transactionId, `invalid tcUrl ${tcUrl}`);
      return;
    }
    if (!vhost) {
      this.reject(transactionId, `vhost ${req.vhost} not found`);
      return;
    }
    this.vhostConfig = vhost;
    this.vhost = vhost.name;
    this.app = req.app;
    this.param = req.param;
    this.chunkSize = vhost.chunkSize;
    const accept = (): void => {
      this.connected = true;
      this.send(this.conn.windowAckSize(vhost.outAckSize));
      this.send(this.conn.setPeerBandwidth(vhost.outAckSize, 2));
      this.send(this.conn.setChunkSize(this.chunkSize));
      this.send(this.conn.connectResult(transactionId));
      this.log.info({ tcUrl: clip(tcUrl), vhost: this.vhost, app: clip(this.app) }, 'RTMP connect');
    };
    return this.admitThen('onConnect', accept, (reason) => this.reject(transactionId, reason));
  }

  /**
   * Asks the admission door (hooks, security) about this session; calls
   * `then` when it allows it, `deny` with the reason when a policy refuses.
   * Synchronous when no policy has async work.
   */
  private admitThen(point: AdmissionPoint, then: () => void, deny: (reason: string, d: Denial) => void): Promise<void> | undefined {
    return this.ctx.admission.gate(
      point,
      this,
      () => {
        if (!this.closed) then();
      },
      (d) => {
        if (!this.closed) deny(d.reason, d);
      },
      this.log,
    );
  }

  private reject(transactionId: number, reason: string): void {
    this.log.warn({ ip: this.ip, tcUrl: clip(this.tcUrl), reason: clip(reason) }, 'RTMP connect rejected');
    this.send(this.conn.connectError(transactionId, 'NetConnection.Connect.Rejected', reason));
    this.close(reason);
  }

  /** Resolves the stream a publish or play names; null (after telling the peer) when it is not acceptable. */
  private resolve(streamName: string, badNameCode: string): StreamRequest | null {
    const req = parseStreamRequest(this.tcUrl, streamName);
    const vhost = this.ctx.vhost(req.vhost);
    let reason = '';
    if (!vhost) reason = `vhost ${req.vhost} not found`;
    else if (!req.stream) reason = 'empty stream name';
    else if (!isSafeStreamName(req.app) || !isSafeStreamName(req.stream)) reason = 'invalid stream name';
    else if (this.ctx.draining) reason = 'server is shutting down';
    if (reason) {
      this.log.warn({ ip: this.ip, tcUrl: clip(this.tcUrl), streamName: clip(streamName), reason }, 'RTMP request refused');
      this.send(this.conn.onStatus(STREAM_ID, 'error', badNameCode, reason));
      this.close(reason);
      return null;
    }
    this.vhostConfig = vhost;
    this.vhost = vhost!.name;
    this.app = req.app;
    this.stream = req.stream;
    this.param = req.param;
    this.log = this.log.child({ stream: clip(streamUrl(this.vhost, req.app, req.stream)) });
    return req;
  }

  private onPublish(streamName: string, publishType: string): Promise<void> | void {
    const type = publishType === 'live' || publishType === 'record' || publishType === 'append' ? 'fmle-publish' : 'flash-publish';
    return this.begin(streamName, type, 'onPublish', 'NetStream.Publish.BadName', 'NetStream.Publish.BadName', (req) => this.startPublishing(req));
  }

  /**
   * The common start of publish and play: one per connection, a valid name,
   * then the policies (hooks, security); `start` runs once they allow it.
   */
  private begin(
    streamName: string,
    type: ClientType,
    point: AdmissionPoint,
    badNameCode: string,
    deniedCode: string,
    start: (req: StreamRequest) => void,
  ): Promise<void> | void {
    if (this.source || this.type !== 'Unknown') {
      this.close('second publish or play on one connection');
      return;
    }
    const req = this.resolve(streamName, badNameCode);
    if (!req) return;
    this.type = type;
    return this.admitThen(
      point,
      () => start(req),
      (reason, d) => {
        if (d.redirect && type === 'rtmp-play') return this.redirect(req, d.redirect);
        this.send(this.conn.onStatus(STREAM_ID, 'error', deniedCode, reason));
        this.close(reason);
      },
    );
  }

  private startPublishing(req: StreamRequest): void {
    const vhost = this.vhostConfig!;
    const source = this.ctx.sources.getOrCreate(this.vhost, req.app, req.stream, sourcePlayConfig(vhost));
    if (!source.publish(this)) {
      this.log.warn({ ip: this.ip, holder: source.publisher?.id }, 'publish refused: stream is busy (already published)');
      this.send(this.conn.onStatus(STREAM_ID, 'error', 'NetStream.Publish.BadName', 'Stream is already publishing.'));
      this.close('stream busy');
      return;
    }
    this.source = source;
    this.endDeadline();
    this.socket.setTimeout(0);
    this.socket.setNoDelay(vhost.tcpNodelay);
    if (this.fcPublish) this.send(this.conn.onFCPublish());
    this.send(this.conn.publishStart(STREAM_ID, req.stream));
    this.publishStartedAt = Date.now();
    this.startPublishTimer(vhost);
    this.log.info({ ip: this.ip, param: clip(req.param) }, 'publish started');
  }

  /** firstpkt_timeout until the first media message, normal_timeout between messages. */
  private startPublishTimer(vhost: VhostConfig): void {
    const tick = Math.max(100, Math.min(1000, vhost.publish.normalTimeout / 2, vhost.publish.firstpktTimeout / 2));
    this.publishTimer = setInterval(() => {
      const now = Date.now();
      const vh = this.vhostConfig ?? vhost;
      if (this.lastMediaAt === 0) {
        if (now - this.publishStartedAt > vh.publish.firstpktTimeout) this.close(`no media within firstpkt_timeout ${vh.publish.firstpktTimeout} ms`);
      } else if (now - this.lastMediaAt > vh.publish.normalTimeout) {
        this.close(`no media within normal_timeout ${vh.publish.normalTimeout} ms`);
      }
    }, tick);
    this.publishTimer.unref();
  }

  private onMedia(messageType: number, timestamp: number, payload: Buffer): void {
    const source = this.source;
    if (!source || source.publisher !== this) return;
    this.lastMediaAt = Date.now();
    // AMF3 data (onMetaData from some encoders) is kept as AMF0 data, as SRS does.
    const type = messageType === MSG.DATA_AMF3 ? MSG.DATA_AMF0 : messageType;
    if (type !== MSG.AUDIO && type !== MSG.VIDEO && type !== MSG.DATA_AMF0) return;
    let frame;
    try {
      frame = frameFromFlvTag(type, timestamp, payload);
    } catch (err) {
      this.close(`bad media message: ${(err as Error).message}`);
      return;
    }
    if (frame) source.onFrame(frame);
  }

  private onPlay(streamName: string): Promise<void> | void {
    return this.begin(streamName, 'rtmp-play', 'onPlay', 'NetStream.Play.StreamNotFound', 'NetStream.Play.Failed', (req) => this.startPlaying(req));
  }

  private startPlaying(req: StreamRequest): void {
    const vhost = this.vhostConfig!;
    const source = this.ctx.sources.getOrCreate(this.vhost, req.app, req.stream, sourcePlayConfig(vhost));
    this.source = source;
    this.endDeadline();
    this.socket.setTimeout(0);
    this.socket.setNoDelay(vhost.tcpNodelay || vhost.minLatency);
    this.send(this.conn.playStart(STREAM_ID, req.stream));
    this.sink = new RtmpFrameSink(this.socket, this.chunkSize, STREAM_ID, this.conn, () => this.close('stream ended'));
    this.consumer = new Consumer(this.id, this.sink, consumerOptions(vhost));
    this.sink.attach(this.consumer);
    source.addConsumer(this.consumer);
    this.log.info({ ip: this.ip, param: clip(req.param), active: source.active }, 'play started');
  }

  /** As SRS: the play starts, then the RTMP 302 names the origin that has the stream, and the connection ends. */
  private redirect(req: StreamRequest, to: StreamLocation): void {
    const url = generateRtmpUrl(to.ip, to.rtmpPort, req.host, this.vhost, req.app, req.stream, req.param);
    this.send(this.conn.playStart(STREAM_ID, req.stream));
    this.send(this.conn.redirect(url.slice(0, url.lastIndexOf('/')), url));
    this.log.info({ ip: this.ip, url: clip(url) }, 'RTMP 302 redirect');
    this.close('redirected');
  }

  private stopPublishing(why: string): void {
    const source = this.source;
    if (!source || source.publisher !== this) return;
    if (this.publishTimer) clearInterval(this.publishTimer);
    this.publishTimer = null;
    source.unpublish(this);
    this.source = null;
    this.log.info({ why, framesIn: source.framesIn }, 'publish stopped');
    this.notify('onUnpublish');
  }

  private stopPlaying(): void {
    const source = this.source;
    if (!source || !this.consumer) return;
    source.removeConsumer(this.consumer);
    this.consumer.closed = true;
    this.log.info({ framesSent: this.consumer.framesSent, framesDropped: this.consumer.framesDropped }, 'play stopped');
    this.consumer = null;
    this.source = null;
    this.notify('onStop');
  }

  private notify(point: NotificationPoint): void {
    this.ctx.admission.notify(point, this, this.log);
  }

  private cleanup(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.endDeadline();
    this.stopPublishing(reason);
    this.stopPlaying();
    this.ctx.clients.remove(this);
    if (this.connected) this.notify('onClose');
    this.log.info({ reason: clip(reason), recv: this.receivedBytes, sent: this.bytesSent() }, 'RTMP client gone');
  }
}
