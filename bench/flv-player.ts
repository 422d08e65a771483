/**
 * An HTTP-FLV player: one GET, then FLV tags. A skimmer (the default) reads
 * tag headers only once the first video frame has arrived; a continuous
 * player assembles and parses every audio and video tag for the whole run.
 */
import { BenchError } from './bench-error.js';
import { BenchPlayer } from './bench-player.js';
import { FlvSkimmer } from './flv-skimmer.js';
import { isVideoFrame } from './video-tag.js';

export class FlvBenchPlayer extends BenchPlayer {
  private readonly skimmer = new FlvSkimmer();
  private readonly path: string;
  private readonly hostHeader: string;
  private readonly onTag = this.tag.bind(this);

  constructor(url: string, continuous = false) {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BenchError(`not an http:// or https:// URL: ${url}`);
    const secure = u.protocol === 'https:';
    super(u.hostname, u.port ? Number(u.port) : secure ? 443 : 80, secure);
    this.path = u.pathname + u.search;
    this.hostHeader = u.host;
    this.continuous = continuous;
    this.skimmer.assemble[9] = 1;
    if (continuous) this.skimmer.assemble[8] = 1;
  }

  protected connected(): void {
    this.send(Buffer.from(`GET ${this.path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nUser-Agent: sluice-bench\r\nAccept: */*\r\n\r\n`, 'latin1'));
  }

  protected data(buf: Buffer, n: number): void {
    this.skimmer.feed(buf, this.onTag, 0, n);
    if (this.skimmer.ended) throw new BenchError('the server ended the FLV stream');
  }

  private tag(type: number, ts: number, _size: number, body: Buffer | null): void {
    if (type === 9) {
      this.videoMessages++;
      if (body && this.video(body, isVideoFrame(body), ts)) this.skimmer.assemble[9] = 0;
    } else if (type === 8) {
      this.audioMessages++;
      if (body) this.audio(body, ts);
    }
  }
}
