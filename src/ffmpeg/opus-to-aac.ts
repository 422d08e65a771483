/**
 * Opus → AAC for WebRTC → RTMP, through one FFmpeg process per stream: Opus
 * packets go in as Ogg pages, AAC-LC comes back as ADTS. Output times
 * continue from the first input packet's time by sample count.
 */
import { parseAdtsHeader, buildAudioSpecificConfig, type AdtsHeader } from '../codec/aac.js';
import { CodecError } from '../codec/codec-error.js';
import { OggOpusWriter, opusPacketSamples } from '../protocol/rtp/ogg-opus.js';
import { FfmpegPipe, type FfmpegPipeHost } from './ffmpeg-pipe.js';

export interface OpusToAacOptions {
  bitrate: number;
  channels?: number;
  /** A raw AAC frame, its time (ms) and the stream's AudioSpecificConfig. */
  onAac(frame: Buffer, ptsMs: number, asc: Buffer): void;
  onError(message: string): void;
  ffmpegPath?: string;
  /** Where its FFmpeg runs (the supervisor's registry, its log file). */
  host: FfmpegPipeHost;
  /** Who it is for (the stream URL), as the API lists it. */
  label: string;
}

export class OpusToAacTranscoder {
  private readonly pipe: FfmpegPipe;
  private readonly ogg = new OggOpusWriter();
  private pending: Buffer = Buffer.alloc(0);
  private baseMs = -1;
  private outSamples = 0;
  private asc: Buffer | null = null;
  packetsIn = 0;
  framesOut = 0;

  constructor(private readonly o: OpusToAacOptions) {
    const channels = o.channels ?? 2;
    this.pipe = new FfmpegPipe({
      ...o.host,
      kind: 'opus-to-aac',
      label: o.label,
      ffmpegPath: o.ffmpegPath,
      args: [
        '-hide_banner', '-nostdin', '-loglevel', 'error',
        '-fflags', 'nobuffer', '-probesize', '32', '-analyzeduration', '0',
        '-f', 'ogg', '-i', 'pipe:0',
        '-vn', '-c:a', 'aac', '-b:a', String(o.bitrate), '-ar', '48000', '-ac', String(channels),
        '-f', 'adts', '-flush_packets', '1', 'pipe:1',
      ],
      onData: (d) => this.onData(d),
      onExit: (code, detail) => o.onError(`ffmpeg Opus→AAC exited with ${code} (${detail})`),
    });
    this.pipe.write(this.ogg.headers(channels));
  }

  push(opus: Buffer, ptsMs: number): void {
    if (opus.length === 0) return;
    let samples: number;
    try {
      samples = opusPacketSamples(opus);
    } catch {
      return;
    }
    if (this.baseMs < 0) this.baseMs = ptsMs;
    this.packetsIn++;
    this.pipe.write(this.ogg.packet(opus, samples));
  }

  close(): void {
    this.pipe.close();
  }

  private onData(d: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    let off = 0;
    while (off + 7 <= data.length) {
      let h: AdtsHeader;
      try {
        h = parseAdtsHeader(data, off);
      } catch (err) {
        if (!(err instanceof CodecError)) throw err;
        this.o.onError(`Opus→AAC output: ${err.message}`);
        this.close();
        return;
      }
      if (off + h.frameLength > data.length) break;
      this.asc ??= buildAudioSpecificConfig(h.objectType, h.samplingIndex, h.channelConfig);
      const frame = Buffer.from(data.subarray(off + h.headerLength, off + h.frameLength));
      const pts = this.baseMs + (this.outSamples * 1000) / h.sampleRate;
      this.outSamples += 1024 * h.rawBlocks;
      this.framesOut++;
      this.o.onAac(frame, pts, this.asc);
      off += h.frameLength;
    }
    data = data.subarray(off);
    this.pending = data.length ? Buffer.from(data) : Buffer.alloc(0);
  }
}
