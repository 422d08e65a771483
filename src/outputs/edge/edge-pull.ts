/**
 * Edge pull: while a stream has players at this edge and no local publisher,
 * play it from an origin over RTMP and publish its frames into the local
 * source. Origins are tried round-robin, again every 3 s after a failure.
 */
import type { Logger } from '../../log/logger.js';
import { randomId } from '../../log/logger.js';
import { frameFromFlvTag } from '../../format/flv.js';
import type { LiveSource, Publisher } from '../../live/live-source.js';
import { RtmpClient } from '../../clients/rtmp-client.js';
import { upstreamTcUrl, type OriginAddress } from './origin-url.js';
import type { Amf0Object } from '../../format/amf0.js';

const RETRY_MS = 3000;
/** An origin cluster's RTMP 302s followed in a row before the configured origins are tried again. */
const MAX_REDIRECTS = 3;

/** `ex.redirect2` (full URL) or `ex.redirect` (tcUrl) of SRS's RTMP 302, as host and port. */
export function redirectTarget(info: Amf0Object): OriginAddress | null {
  const ex = info.ex;
  if (typeof ex !== 'object' || ex === null || Array.isArray(ex) || ex instanceof Date) return null;
  const e = ex as Amf0Object;
  const url = typeof e.redirect2 === 'string' ? e.redirect2 : typeof e.redirect === 'string' ? e.redirect : '';
  const m = /^(rtmps?):\/\/(\[[^\]]+\]|[^/:?]+)(?::(\d+))?/i.exec(url);
  if (!m) return null;
  // An rtmps:// redirect is followed over TLS; SRS's own 302s name rtmp:// addresses.
  const tls = m[1]!.toLowerCase() === 'rtmps';
  return { host: m[2]!.replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : tls ? 443 : 1935, tls };
}

export class EdgePull implements Publisher {
  readonly id = randomId();
  private client: RtmpClient | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private next = 0;
  private published = false;
  /** Where the last origin redirected us (RTMP 302), tried next; and how many in a row. */
  private redirect: OriginAddress | null = null;
  private redirects = 0;

  constructor(
    private readonly source: LiveSource,
    private readonly origins: OriginAddress[],
    private readonly upstreamVhost: string,
    private readonly param: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.connect();
  }

  stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.unpublish();
    void this.client?.close();
    this.client = null;
    this.log.info({ reason }, 'edge pull stopped');
  }

  /** The source asks its publisher to go (kick, shutdown). */
  kick(reason: string): void {
    this.stop(reason);
  }

  private unpublish(): void {
    if (this.published) {
      this.published = false;
      this.source.unpublish(this);
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const origin = this.redirect ?? this.origins[this.next++ % this.origins.length]!;
    this.redirect = null;
    const at = `${origin.host}:${origin.port}`;
    try {
      const client = await RtmpClient.connect({
        host: origin.host,
        port: origin.port,
        tls: origin.tls,
        app: this.source.app,
        tcUrl: upstreamTcUrl(origin, this.source.app, this.upstreamVhost),
        onEvent: (e) => {
          if (e.type === 'onStatus' && e.level === 'error') {
            const to = redirectTarget(e.info);
            if (to && this.redirects < MAX_REDIRECTS) {
              this.redirects++;
              this.redirect = to;
              this.log.info({ origin: at, to: `${to.host}:${to.port}` }, 'origin redirected the edge pull (RTMP 302)');
            }
            client.socket.destroy();
            return;
          }
          if (e.type !== 'media' || !this.published) return;
          if (this.redirects > 0 && e.messageType !== 18) this.redirects = 0;
          if (e.messageType !== 8 && e.messageType !== 9 && e.messageType !== 18) return;
          let frame;
          try {
            frame = frameFromFlvTag(e.messageType, e.timestamp, e.payload);
          } catch (err) {
            this.log.warn({ origin: at, err: (err as Error).message }, 'bad media from origin, reconnecting');
            client.socket.destroy();
            return;
          }
          if (frame) this.source.onFrame(frame);
        },
      });
      if (this.stopped) {
        void client.close();
        return;
      }
      this.client = client;
      if (!this.source.publish(this)) {
        this.log.info('edge pull not needed: the stream got a local publisher');
        this.stop('local publisher');
        return;
      }
      this.published = true;
      const code = await client.play(`${this.source.stream}${this.param}`);
      if (code !== 'NetStream.Play.Start') throw new Error(`origin answered ${code}`);
      this.log.info({ origin: at }, 'edge pull started');
      const onClose = (): void => {
        if (this.stopped || this.client !== client) return;
        if (!this.redirect) this.log.warn({ origin: at }, 'origin closed the edge pull, retrying');
        this.unpublish();
        this.client = null;
        this.scheduleRetry();
      };
      // A 302 right after Play.Start may have closed the socket already.
      if (client.closed) onClose();
      else client.socket.once('close', onClose);
    } catch (err) {
      if (this.stopped) return;
      this.log.warn({ origin: at, err: (err as Error).message }, 'edge pull failed, retrying');
      this.unpublish();
      void this.client?.close();
      this.client = null;
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.redirect ? 0 : RETRY_MS);
    this.retryTimer.unref();
  }
}
