/**
 * RTMP → WebRTC (`rtmp_to_rtc on`): one Consumer on the LiveSource per
 * stream (not per player) turns frames into RTP once: H.264 access units are
 * packetized (STAP-A for SPS/PPS in front of every IDR, FU-A for large NAL
 * units), non-reference B frames are dropped unless `keep_bframe on` (see
 * docs/WEBRTC.md), AAC is transcoded to Opus by FFmpeg (Opus from Enhanced
 * RTMP passes through). A video frame's packets are kept in its RTP form
 * (rtp-form.ts), made once per frame. The RtcStream then fans the packets
 * out to players.
 */
import type { MediaFrame } from '../../codec/media-frame.js';
import { parseAvcDecoderConfig } from '../../codec/h264.js';
import { Consumer, type ConsumerOptions, type FrameSink } from '../../live/consumer.js';
import type { LiveSource, Publisher } from '../../live/live-source.js';
import type { Logger } from '../../log/logger.js';
import { H264Packetizer, webrtcNalus, isDroppableBFrame } from '../../protocol/rtp/h264-packetizer.js';
import { writeRtpHeader, RTP_HEADER_SIZE } from '../../protocol/rtp/rtp-packet.js';
import { AacToOpusTranscoder } from '../../ffmpeg/aac-to-opus.js';
import type { FfmpegPipeHost } from '../../ffmpeg/ffmpeg-pipe.js';
import type { RtcProducer, RtcStream, RtcTrackFormat } from './rtc-stream.js';
import { RTP_VIDEO } from './rtp-form.js';

export interface RtmpToRtcOptions {
  opusBitrate: number;
  keepBframe: boolean;
  keepSei: boolean;
  consumer: ConsumerOptions;
  /** True for a publisher that is itself WebRTC (never bridge a stream back to where it came from). */
  isRtcPublisher(p: Publisher | null): boolean;
  log: Logger;
  /** Where the AAC→Opus FFmpeg runs (supervised, listed by the API). */
  ffmpeg: FfmpegPipeHost;
  /** The stream URL, the label of that child. */
  label: string;
}

const EMPTY = Buffer.alloc(0);
const VIDEO_PT = 96;
const AUDIO_PT = 111;

export class RtmpToRtcBridge implements RtcProducer, FrameSink {
  readonly kind = 'bridge' as const;
  readonly id: string;
  private readonly consumer: Consumer;
  private readonly packetizer = new H264Packetizer({ ssrc: 0x5a5a0001, payloadType: VIDEO_PT });
  private sps: Buffer[] = [];
  private pps: Buffer[] = [];
  private transcoder: AacToOpusTranscoder | null = null;
  private transcoderAsc: Buffer | null = null;
  private audioSeq = Math.floor(Math.random() * 0x10000);
  private attaching = false;
  private stopped = false;
  private warned = new Set<string>();
  bframesDropped = 0;
  videoPackets = 0;
  audioPackets = 0;
  onEnd: ((reason: string) => void) | null = null;

  constructor(
    id: string,
    private readonly source: LiveSource,
    private readonly stream: RtcStream,
    private readonly o: RtmpToRtcOptions,
  ) {
    this.id = id;
    this.consumer = new Consumer(id, this, { ...o.consumer, mwLatencyMs: 0 });
  }

  static formats(): { video: RtcTrackFormat; audio: RtcTrackFormat } {
    return {
      video: { codec: 'H264', clockRate: 90000, fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' },
      audio: { codec: 'opus', clockRate: 48000, fmtp: 'minptime=10;useinbandfec=1' },
    };
  }

  /** Becomes the stream's producer and starts reading the source. False if an RTC publisher holds the stream. */
  start(): boolean {
    const f = RtmpToRtcBridge.formats();
    if (!this.stream.setProducer(this, f.video, f.audio)) return false;
    this.attaching = true;
    this.source.addConsumer(this.consumer);
    this.attaching = false;
    return true;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.source.removeConsumer(this.consumer);
    this.consumer.closed = true;
    this.transcoder?.close();
    this.transcoder = null;
    this.stream.removeProducer(this);
  }

  /** RTMP encoders cannot be asked for a keyframe: players wait for the next one. */
  requestKeyframe(): void {}

  encode(frame: MediaFrame): Buffer {
    if (this.stopped || this.o.isRtcPublisher(this.source.publisher)) return EMPTY;
    try {
      if (frame.kind === 'video') this.onVideo(frame);
      else if (frame.kind === 'audio') this.onAudio(frame);
    } catch (err) {
      this.warnOnce(`bad ${frame.codec} frame`, (err as Error).message);
    }
    return EMPTY;
  }

  write(): boolean {
    return true;
  }

  end(reason: string): void {
    this.stop();
    this.onEnd?.(reason);
  }

  private onVideo(frame: MediaFrame): void {
    if (frame.codec !== 'H264') return this.warnOnce(`video codec ${frame.codec}`, 'only H.264 is bridged to WebRTC');
    if (frame.header) {
      const cfg = parseAvcDecoderConfig(frame.payload);
      this.sps = cfg.sps.map((b) => Buffer.from(b));
      this.pps = cfg.pps.map((b) => Buffer.from(b));
      return;
    }
    // The GOP handed over at attach time is old: players start at the next keyframe anyway.
    if (this.attaching) return;
    const packets = frame.wire(RTP_VIDEO) ?? frame.setWire(RTP_VIDEO, this.packetize(frame));
    for (const pkt of packets) {
      this.videoPackets++;
      this.stream.onRtp('video', pkt);
    }
  }

  private packetize(frame: MediaFrame): readonly Buffer[] {
    const nalus = webrtcNalus(frame.payload, this.sps, this.pps, this.o.keepSei);
    if (!this.o.keepBframe && isDroppableBFrame(nalus)) {
      this.bframesDropped++;
      return [];
    }
    return this.packetizer.packetize(nalus, Math.round(frame.pts * 90) >>> 0);
  }

  private onAudio(frame: MediaFrame): void {
    if (frame.codec === 'Opus') {
      if (!frame.header && !this.attaching) this.sendOpus(frame.payload, frame.dts);
      return;
    }
    if (frame.codec !== 'AAC') return this.warnOnce(`audio codec ${frame.codec}`, 'only AAC and Opus are bridged to WebRTC');
    if (frame.header) {
      if (this.transcoderAsc && this.transcoderAsc.equals(frame.payload)) return;
      this.transcoder?.close();
      this.transcoderAsc = Buffer.from(frame.payload);
      this.transcoder = new AacToOpusTranscoder({
        asc: this.transcoderAsc,
        bitrate: this.o.opusBitrate,
        onOpus: (p, pts) => this.sendOpus(p, pts),
        onError: (m) => this.o.log.warn({ err: m }, 'AAC→Opus transcoder stopped'),
        host: this.o.ffmpeg,
        label: this.o.label,
      });
      return;
    }
    if (this.attaching) return;
    this.transcoder?.push(frame.payload, frame.dts);
  }

  private sendOpus(opus: Buffer, ptsMs: number): void {
    if (this.stopped) return;
    const pkt = Buffer.allocUnsafe(RTP_HEADER_SIZE + opus.length);
    writeRtpHeader(pkt, AUDIO_PT, this.audioSeq, Math.round(ptsMs * 48) >>> 0, 0x5a5a0002, false);
    this.audioSeq = (this.audioSeq + 1) & 0xffff;
    opus.copy(pkt, RTP_HEADER_SIZE);
    this.audioPackets++;
    this.stream.onRtp('audio', pkt);
  }

  private warnOnce(key: string, detail: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.o.log.warn({ detail }, `RTMP→RTC: ${key} not bridged`);
  }
}
