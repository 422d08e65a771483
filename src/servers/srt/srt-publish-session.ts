/**
 * An SRT publisher: the MPEG-TS its connection delivers is demuxed into
 * MediaFrames for its stream's LiveSource, so RTMP, HTTP-FLV, HLS, DASH,
 * DVR and SRT players see it. Bad TS ends the session with one log line.
 */
import type { ClientType } from '../../core/client-registry.js';
import type { LiveSource, Publisher } from '../../live/live-source.js';
import { TsDemuxer } from '../../format/mpegts-demuxer.js';
import { FrameInterleaver, TsFrameReader } from '../../format/mpegts-frames.js';
import { SrtSession, type SrtSessionInit } from './srt-session.js';

export class SrtPublishSession extends SrtSession implements Publisher {
  type: ClientType = 'srt-publish';
  readonly kind = 'srt' as const;
  private readonly demux = new TsDemuxer({ maxPesBytes: 4 * 1024 * 1024 });
  private readonly reader = new TsFrameReader();
  private readonly interleaver = new FrameInterleaver();
  source: LiveSource | null = null;
  framesIn = 0;

  constructor(init: SrtSessionInit) {
    super(init);
  }

  get ignoredPes(): number {
    return this.reader.ignoredPes;
  }

  kick(reason: string): void {
    this.close(reason);
  }

  onPayloads(payloads: Buffer[]): void {
    const source = this.source;
    if (!source || this.closed) return;
    try {
      for (const p of payloads) {
        for (const pes of this.demux.push(p)) {
          for (const f of this.reader.read(pes)) {
            for (const g of this.interleaver.push(f)) {
              this.framesIn++;
              source.onFrame(g);
            }
          }
        }
      }
    } catch (err) {
      this.close(`bad MPEG-TS from the publisher: ${(err as Error).message}`);
    }
  }

  protected release(): void {
    // The server unpublishes (it holds the source and the policies).
  }
}
