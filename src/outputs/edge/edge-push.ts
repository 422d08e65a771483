/**
 * Edge publish: a stream published at an edge is relayed to an origin over
 * RTMP (same app/stream/param), so that players at every edge can pull it.
 * Frames are sent as their FLV bodies (the RTMP payload), serialized by the
 * RTMP chunk writer once per frame.
 */
import type { Logger } from '../../log/logger.js';
import type { MediaFrame } from '../../codec/media-frame.js';
import { flvBodyFromFrame } from '../../format/flv.js';
import type { LiveSource } from '../../live/live-source.js';
import { RtmpClient } from '../../clients/rtmp-client.js';
import { upstreamTcUrl, type OriginAddress } from './origin-url.js';

/** An origin that cannot take the stream this fast is not kept up with forever. */
const MAX_UPSTREAM_BACKLOG = 16 * 1024 * 1024;

export class EdgePush {
  private client: RtmpClient | null = null;
  private ready = false;
  private stopped = false;
  /** Frames that arrive while the upstream connection is being set up (headers, first GOP). */
  private pending: MediaFrame[] = [];

  constructor(
    private readonly source: LiveSource,
    private readonly origin: OriginAddress,
    private readonly upstreamVhost: string,
    private readonly param: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const at = `${this.origin.host}:${this.origin.port}`;
    try {
      const client = await RtmpClient.connect({
        host: this.origin.host,
        port: this.origin.port,
        tls: this.origin.tls,
        app: this.source.app,
        tcUrl: upstreamTcUrl(this.origin, this.source.app, this.upstreamVhost),
      });
      if (this.stopped) {
        void client.close();
        return;
      }
      this.client = client;
      const code = await client.publish(`${this.source.stream}${this.param}`);
      if (code !== 'NetStream.Publish.Start') throw new Error(`origin answered ${code}`);
      client.socket.once('close', () => {
        if (!this.stopped) this.fail(`origin ${at} closed the relay`);
      });
      this.ready = true;
      for (const f of this.pending) this.send(f);
      this.pending = [];
      this.log.info({ origin: at }, 'edge push started');
    } catch (err) {
      this.fail(`edge push to ${at} failed: ${(err as Error).message}`);
    }
  }

  onFrame(frame: MediaFrame): void {
    if (this.stopped) return;
    if (!this.ready) {
      if (this.pending.length < 1000) this.pending.push(frame);
      return;
    }
    this.send(frame);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.pending = [];
    void this.client?.close();
    this.client = null;
  }

  private send(frame: MediaFrame): void {
    const client = this.client;
    if (!client) return;
    if (client.socket.writableLength > MAX_UPSTREAM_BACKLOG) {
      this.fail('origin is not keeping up with the relayed stream');
      return;
    }
    const type = frame.kind === 'video' ? 9 : frame.kind === 'audio' ? 8 : 18;
    client.sendMedia(type, frame.dts, flvBodyFromFrame(frame));
  }

  /** Without its relay, an edge publisher would publish to nobody: it is cut, as SRS does. */
  private fail(reason: string): void {
    if (this.stopped) return;
    this.log.warn({ reason }, 'edge push failed, closing the publisher');
    this.stop();
    this.source.publisher?.kick(reason);
  }
}
