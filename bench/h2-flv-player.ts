/**
 * HTTPS-FLV over HTTP/2, as a browser tab playing with mpegts.js over h2:
 * one h2 connection per player (ALPN h2, certificate not checked: a loopback
 * bench), one GET stream, FLV tag headers only once the first video frame
 * has arrived (as the HTTP/1.1 player).
 */
import http2 from 'node:http2';
import { BenchError } from './bench-error.js';
import { BenchPlayer } from './bench-player.js';
import { FlvSkimmer } from './flv-skimmer.js';
import { isVideoFrame } from './video-tag.js';

export class H2FlvBenchPlayer extends BenchPlayer {
  /** DATA frames carry the FLV bytes alone: no HTTP/1.1 head, no chunk framing. */
  private readonly skimmer = new FlvSkimmer({ http: false });
  private readonly origin: string;
  private readonly path: string;
  private session: http2.ClientHttp2Session | null = null;
  private readonly onTag = this.tag.bind(this);

  constructor(url: string) {
    const u = new URL(url);
    if (u.protocol !== 'https:') throw new BenchError(`HTTP/2 needs an https:// URL: ${url}`);
    super(u.hostname, u.port ? Number(u.port) : 443, true);
    this.origin = u.origin;
    this.path = u.pathname + u.search;
    this.skimmer.assemble[9] = 1;
  }

  override open(): void {
    this.connectAt = performance.now();
    const session = http2.connect(this.origin, { rejectUnauthorized: false });
    this.session = session;
    session.on('error', (e) => {
      this.error ??= e.message;
    });
    session.on('close', () => {
      this.closedAt = performance.now();
    });
    session.once('connect', () => {
      if (session.alpnProtocol !== 'h2') this.fail(`the server answered ${session.alpnProtocol ?? 'no ALPN'}, not h2`);
    });
    const stream = session.request({ ':path': this.path, 'user-agent': 'sluice-bench' });
    stream.on('response', (h) => {
      if (h[':status'] !== 200) this.fail(`HTTP ${String(h[':status'])}`);
    });
    stream.on('data', (buf: Buffer) => {
      this.bytes += buf.length;
      try {
        this.skimmer.feed(buf, this.onTag, 0, buf.length);
        if (this.skimmer.ended) throw new BenchError('the server ended the FLV stream');
      } catch (e) {
        this.fail(e instanceof BenchError ? e.message : String(e));
      }
    });
    stream.on('error', (e) => {
      this.error ??= e.message;
    });
    stream.end();
  }

  override close(): void {
    this.session?.destroy();
  }

  protected override fail(reason: string): void {
    this.error ??= reason;
    this.session?.destroy();
  }

  protected connected(): void {}

  protected data(): void {}

  private tag(type: number, _ts: number, _size: number, body: Buffer | null): void {
    if (type === 9 && body && this.video(body, isVideoFrame(body))) this.skimmer.assemble[9] = 0;
  }
}
