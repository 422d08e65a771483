/**
 * AAC → Opus for RTMP → WebRTC, through one FFmpeg process per stream:
 * raw AAC frames go in as ADTS, Opus comes back in Ogg pages of one 20 ms
 * packet each. Output times continue from the first input frame's time by
 * sample count (Opus runs at 48 kHz).
 */
import { parseAudioSpecificConfig, writeAdtsHeader, ADTS_HEADER_SIZE, type AacConfig } from '../codec/aac.js';
import { OggReader, opusPacketSamples } from '../protocol/rtp/ogg-opus.js';
import { FfmpegPipe, type FfmpegPipeHost } from './ffmpeg-pipe.js';

export interface AacToOpusOptions {
  /** AudioSpecificConfig of the input. */
  asc: Buffer;
  bitrate: number;
  onOpus(packet: Buffer, ptsMs: number, samples: number): void;
  onError(message: string): void;
  ffmpegPath?: string;
  /** Where its FFmpeg runs (the supervisor's registry, its log file). */
  host: FfmpegPipeHost;
  /** Who it is for (the stream URL), as the API lists it. */
  label: string;
}

export class AacToOpusTranscoder {
  private readonly config: AacConfig;
  private readonly pipe: FfmpegPipe;
  private readonly ogg = new OggReader();
  private baseMs = -1;
  private outSamples = 0;
  private headersSeen = 0;
  framesIn = 0;
  packetsOut = 0;

  constructor(private readonly o: AacToOpusOptions) {
    this.config = parseAudioSpecificConfig(o.asc);
    this.pipe = new FfmpegPipe({
      ...o.host,
      kind: 'aac-to-opus',
      label: o.label,
      ffmpegPath: o.ffmpegPath,
      args: [
        '-hide_banner', '-nostdin', '-loglevel', 'error',
        '-fflags', 'nobuffer', '-probesize', '32', '-analyzeduration', '0',
        '-f', 'aac', '-i', 'pipe:0',
        '-vn', '-c:a', 'libopus', '-b:a', String(o.bitrate), '-ar', '48000', '-ac', '2',
        '-application', 'lowdelay', '-frame_duration', '20',
        '-f', 'ogg', '-page_duration', '20000', '-flush_packets', '1', 'pipe:1',
      ],
      onData: (d) => this.onData(d),
      onExit: (code, detail) => o.onError(`ffmpeg AAC→Opus exited with ${code} (${detail})`),
    });
  }

  /** One raw AAC frame at its time (ms). */
  push(aac: Buffer, dtsMs: number): void {
    if (this.baseMs < 0) this.baseMs = dtsMs;
    const b = Buffer.allocUnsafe(ADTS_HEADER_SIZE + aac.length);
    writeAdtsHeader(b, 0, this.config.coreObjectType, this.config.samplingIndex, this.config.channelConfig, aac.length);
    aac.copy(b, ADTS_HEADER_SIZE);
    this.framesIn++;
    this.pipe.write(b);
  }

  close(): void {
    this.pipe.close();
  }

  private onData(d: Buffer): void {
    let packets;
    try {
      packets = this.ogg.push(d);
    } catch (err) {
      this.o.onError(`AAC→Opus output: ${(err as Error).message}`);
      this.close();
      return;
    }
    for (const p of packets) {
      if (this.headersSeen < 2) {
        this.headersSeen++;
        continue;
      }
      const samples = opusPacketSamples(p.data);
      const pts = this.baseMs + this.outSamples / 48;
      this.outSamples += samples;
      this.packetsOut++;
      this.o.onOpus(p.data, pts, samples);
    }
  }
}
