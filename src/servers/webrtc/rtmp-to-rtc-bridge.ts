/**
 * RTMP → WebRTC (`rtmp_to_rtc on`): one Consumer on the LiveSource per
 * stream (not per player) turns frames into RTP once: H.264 access units are
 * packetized (STAP-A for SPS/PPS in front of every IDR, FU-A for large NAL
 * units), non-reference B frames are dropped unless `keep_bframe on` (see
 * docs/WEBRTC.md), AAC is transcoded to Opus by FFmpeg (Opus from Enhanced
 * RTMP passes through). A video frame's packets are kept in its RTP form
 * (rtp-form.ts), made once per frame. The RtcStream then fans the packets
 * out to players. H.265 (Enhanced RTMP, SRT) is packetized per RFC 7798 for
 * players whose offer has H265 (VPS/SPS/PPS in an Aggregation Packet in
 * front of every IRAP picture).
 */
import type { MediaFrame } from '../../codec/media-frame.js';
import { parseAvcDecoderConfig, nalUnits } from '../../codec/h264.js';
import { parseHevcDecoderConfig } from '../../codec/hevc.js';
import { H265Packetizer, hevcNalType, isHevcIrap } from '../../protocol/rtp/h265-packetizer.js';
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
  private readonly h265 = new H265Packetizer({ ssrc: 0x5a5a0003, payloadType: VIDEO_PT });
  /** HEVC: VPS, SPS and PPS from the sequence header, and its NAL length size. */
  private hevcParams: Buffer[] = [];
  private hevcLengthSize = 4;
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

  /** What players are offered: H.265 when the source's video is HEVC, else H.264. */
  static formats(videoCodec?: string): { video: RtcTrackFormat; audio: RtcTrackFormat } {
    return {
      video: videoCodec === 'HEVC' ? { codec: 'H265', clockRate: 90000, fmtp: '' } : { codec: 'H264', clockRate: 90000, fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' },
      audio: { codec: 'opus', clockRate: 48000, fmtp: 'minptime=10;useinbandfec=1' },
    };
  }

  /** Becomes the stream's producer and starts reading the source. False if an RTC publisher holds the stream. */
  start(): boolean {
    const f = RtmpToRtcBridge.formats(this.source.videoHeader?.codec);
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
    if (frame.codec === 'HEVC') return this.onHevc(frame);
    if (frame.codec !== 'H264') return this.warnOnce(`video codec ${frame.codec}`, 'only H.264 and H.265 are bridged to WebRTC');
    if (frame.header) {
      const cfg = parseAvcDecoderConfig(frame.payload);
      this.sps = cfg.sps.map((b) => Buffer.from(b));
      this.pps = cfg.pps.map((b) => Buffer.from(b));
      return;
    }
    this.sendVideo(frame, (f) => this.packetize(f));
  }

  private onHevc(frame: MediaFrame): void {
    if (this.stream.video?.codec !== 'H265') return this.warnOnce('video codec HEVC', 'the stream was H.264 when its players joined');
    if (frame.header) {
      const cfg = parseHevcDecoderConfig(frame.payload);
      this.hevcLengthSize = cfg.lengthSizeMinusOne + 1;
      this.hevcParams = cfg.arrays.filter((a) => a.nalType >= 32 && a.nalType <= 34).flatMap((a) => a.units.map((u) => Buffer.from(u)));
      return;
    }
    this.sendVideo(frame, (f) => this.packetizeHevc(f));
  }

  /** A frame's RTP packets to the players; packetized once, then cached on the frame. */
  private sendVideo(frame: MediaFrame, packetize: (f: MediaFrame) => readonly Buffer[]): void {
    // The GOP handed over at attach time is old: players start at the next keyframe anyway.
    if (this.attaching) return;
    const packets = frame.wire(RTP_VIDEO) ?? frame.setWire(RTP_VIDEO, packetize(frame));
    for (const pkt of packets) {
      this.videoPackets++;
      this.stream.onRtp('video', pkt);
    }
  }

  /** Access unit delimiters dropped; the parameter sets in front of an IRAP picture that lacks them. */
  private packetizeHevc(frame: MediaFrame): readonly Buffer[] {
    const nalus: Buffer[] = [];
    let irap = false;
    let params = false;
    for (const n of nalUnits(frame.payload, this.hevcLengthSize)) {
      if (n.length < 2) continue;
      const t = hevcNalType(n[0]!);
      if (t === 35) continue;
      if (t >= 32 && t <= 34) params = true;
      if (isHevcIrap(t)) irap = true;
      if (t === 39 && !this.o.keepSei) continue;
      nalus.push(n);
    }
    if (irap && !params) nalus.unshift(...this.hevcParams);
    return this.h265.packetize(nalus, Math.round(frame.pts * 90) >>> 0);
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
