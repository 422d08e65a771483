/**
 * WebRTC → RTMP (`rtc_to_rtmp on`): a WHIP publisher's RTP becomes
 * MediaFrames in the LiveSource, so RTMP, FLV, HLS and DVR see it. Video
 * goes through a jitter buffer (reordering; NACK for gaps; PLI after a loss
 * and every `pli_for_rtmp`) and the H.264 or H.265 depacketizer; Opus is transcoded
 * to AAC by FFmpeg. Each track's RTP clock is anchored to the arrival time
 * of its first packet, so audio and video share one millisecond timeline.
 * Of a simulcast publisher it takes one layer (the top one); when that
 * changes it starts again on the new layer (a jitter buffer, depacketizer
 * and clock of its own, from its next keyframe) and keeps the timeline
 * going.
 */
import { MediaFrame } from '../../codec/media-frame.js';
import { buildAvcDecoderConfig } from '../../codec/h264.js';
import type { LiveSource } from '../../live/live-source.js';
import type { Logger } from '../../log/logger.js';
import type { RtpHeader } from '../../protocol/rtp/rtp-packet.js';
import { RtpJitterBuffer } from '../../protocol/rtp/jitter-buffer.js';
import { H264Depacketizer, type H264AccessUnit } from '../../protocol/rtp/h264-depacketizer.js';
import { H265Depacketizer } from '../../protocol/rtp/h265-depacketizer.js';
import { hevcNalType } from '../../protocol/rtp/h265-packetizer.js';
import { buildHevcDecoderConfig } from '../../codec/hevc.js';
import { OpusToAacTranscoder } from '../../ffmpeg/opus-to-aac.js';
import type { FfmpegPipeHost } from '../../ffmpeg/ffmpeg-pipe.js';
import type { MediaKind } from './rtc-stream.js';

export interface RtcToRtmpOptions {
  source: LiveSource;
  videoCodec: string | null;
  hasAudio: boolean;
  aacBitrate: number;
  /** pli_for_rtmp in ms. */
  pliIntervalMs: number;
  /** Of the simulcast layer the bridge takes (0 without simulcast). */
  requestKeyframe(layer: number): void;
  sendNack(seqs: number[], layer: number): void;
  log: Logger;
  /** Where the Opus→AAC FFmpeg runs (supervised, listed by the API). */
  ffmpeg: FfmpegPipeHost;
  /** The stream URL, the label of that child. */
  label: string;
  now?: () => number;
}

interface VideoPacket {
  payload: Buffer;
  timestamp: number;
  marker: boolean;
}

/** Maps one track's 32-bit RTP timestamps to ms on the bridge's timeline. */
class TrackClock {
  private last = -1;
  private unwrapped = 0;
  private startMs = 0;

  constructor(private readonly clockRate: number) {}

  toMs(ts: number, arrivalMs: number): number {
    if (this.last < 0) {
      this.last = ts;
      this.startMs = arrivalMs;
      return arrivalMs;
    }
    let d = (ts - this.last) | 0; // signed 32-bit difference
    if (d < -this.clockRate * 60 || d > this.clockRate * 60) d = 0; // a jump: keep the timeline continuous
    this.unwrapped += d;
    this.last = ts;
    return this.startMs + (this.unwrapped * 1000) / this.clockRate;
  }
}

/** What H.264 and H.265 do differently here: which NAL units are parameter sets, and the decoder configuration record they make. */
interface VideoShape {
  codec: 'H264' | 'HEVC';
  label: string;
  /** The unit's parameter sets, by kind (null unless all the record needs are there), and the NAL units of the frame (no delimiters). */
  split(nalus: Buffer[]): { params: Buffer[][] | null; body: Buffer[] };
  record(params: Buffer[][]): Buffer;
  depacketizer(): H264Depacketizer | H265Depacketizer;
}

const AVC_SHAPE: VideoShape = {
  codec: 'H264',
  label: 'H.264',
  split(nalus) {
    let sps: Buffer | null = null;
    let pps: Buffer | null = null;
    const body: Buffer[] = [];
    for (const n of nalus) {
      const t = n[0]! & 0x1f;
      if (t === 7) sps = n;
      else if (t === 8) pps = n;
      else if (t !== 9) body.push(n);
    }
    return { params: sps && pps ? [[sps], [pps]] : null, body };
  },
  record: (p) => buildAvcDecoderConfig(p[0]![0]!, p[1]![0]!),
  depacketizer: () => new H264Depacketizer(),
};

const HEVC_SHAPE: VideoShape = {
  codec: 'HEVC',
  label: 'H.265',
  split(nalus) {
    const params: Buffer[][] = [[], [], []];
    const body: Buffer[] = [];
    for (const n of nalus) {
      const t = hevcNalType(n[0]!);
      if (t >= 32 && t <= 34) params[t - 32]!.push(n); // VPS, SPS, PPS
      else if (t !== 35) body.push(n);
    }
    return { params: params[1]!.length && params[2]!.length ? params : null, body };
  },
  record: (p) => buildHevcDecoderConfig(p[0]!, p[1]!, p[2]!),
  depacketizer: () => new H265Depacketizer(),
};

export class RtcToRtmpBridge {
  private jitter = new RtpJitterBuffer<VideoPacket>({ capacity: 1024, maxDelayMs: 150 });
  private depack: H264Depacketizer | H265Depacketizer;
  private videoClock = new TrackClock(90000);
  /** The simulcast layer taken, -1 before the first video packet. */
  private videoLayer = -1;
  private lastVideoMs = -Infinity;
  layerChanges = 0;
  private readonly audioClock = new TrackClock(48000);
  private readonly now: () => number;
  private readonly epoch: number;
  private readonly timer: NodeJS.Timeout;
  private transcoder: OpusToAacTranscoder | null = null;
  /** The parameter sets of the last sequence header sent, end to end; null before the first. */
  private paramSets: Buffer | null = null;
  private readonly shape: VideoShape;
  private audioHeaderSent = false;
  private lastPli = -Infinity;
  private lastPeriodicPli: number;
  private stopped = false;
  framesOut = 0;
  audioFramesOut = 0;

  constructor(private readonly o: RtcToRtmpOptions) {
    this.now = o.now ?? (() => performance.now());
    this.shape = o.videoCodec === 'H265' ? HEVC_SHAPE : AVC_SHAPE;
    this.depack = this.newDepacketizer();
    this.epoch = this.now();
    this.lastPeriodicPli = this.epoch;
    if (o.videoCodec && o.videoCodec !== 'H264' && o.videoCodec !== 'H265') o.log.warn({ codec: o.videoCodec }, 'rtc_to_rtmp: only H.264 and H.265 video are bridged to RTMP');
    if (o.hasAudio) {
      this.transcoder = new OpusToAacTranscoder({
        bitrate: o.aacBitrate,
        onAac: (frame, pts, asc) => this.onAac(frame, pts, asc),
        onError: (m) => o.log.warn({ err: m }, 'Opus→AAC transcoder stopped'),
        host: o.ffmpeg,
        label: o.label,
      });
    }
    this.timer = setInterval(() => this.tick(), 20);
    this.timer.unref();
  }

  onRtp(kind: MediaKind, pkt: Buffer, h: RtpHeader, layer = 0): void {
    if (this.stopped) return;
    const now = this.now();
    if (kind === 'audio') {
      if (!this.transcoder || h.payloadEnd <= h.payloadOffset) return;
      const ms = this.audioClock.toMs(h.timestamp, now - this.epoch);
      // Copy: the SFU rewrites the shared packet's header for its players.
      this.transcoder.push(Buffer.from(pkt.subarray(h.payloadOffset, h.payloadEnd)), ms);
      return;
    }
    if (this.o.videoCodec !== 'H264' && this.o.videoCodec !== 'H265') return;
    if (layer !== this.videoLayer) {
      // Another layer: its own sequence numbers and clock. It starts at its next keyframe (the depacketizer asks).
      if (this.videoLayer >= 0) {
        this.layerChanges++;
        this.jitter = new RtpJitterBuffer<VideoPacket>({ capacity: 1024, maxDelayMs: 150 });
        this.depack = this.newDepacketizer();
        this.videoClock = new TrackClock(90000);
        this.lastPli = -Infinity;
      }
      this.videoLayer = layer;
    }
    this.jitter.push(h.sequence, { payload: pkt.subarray(h.payloadOffset, h.payloadEnd), timestamp: h.timestamp, marker: h.marker }, now);
    this.drain(now);
  }

  private drain(now: number): void {
    for (let out = this.jitter.pop(now); out; out = this.jitter.pop(now)) {
      let units: H264AccessUnit[];
      try {
        units = this.depack.push(out.item.payload, out.item.timestamp, out.item.marker, out.lostBefore);
      } catch {
        continue;
      }
      for (const u of units) this.onAccessUnit(u, now);
    }
    if (this.depack.needKeyframe && now - this.lastPli > 500) {
      this.lastPli = now;
      this.o.requestKeyframe(this.videoLayer);
    }
  }

  private tick(): void {
    const now = this.now();
    this.drain(now);
    const missing = this.jitter.missing(now);
    if (missing.length) this.o.sendNack(missing, this.videoLayer);
    if (this.o.pliIntervalMs > 0 && now - this.lastPeriodicPli >= this.o.pliIntervalMs) {
      this.lastPeriodicPli = now;
      this.o.requestKeyframe(this.videoLayer);
    }
  }

  private newDepacketizer(): H264Depacketizer | H265Depacketizer {
    return this.shape.depacketizer();
  }

  /** An access unit: its parameter sets become the sequence header (avcC, hvcC) when they change, the rest a length-prefixed frame. */
  private onAccessUnit(u: H264AccessUnit, now: number): void {
    const shape = this.shape;
    // Never backwards, also across a change of layer (each layer's clock has its own anchor).
    const ms = Math.max(Math.round(this.videoClock.toMs(u.timestamp, now - this.epoch)), this.lastVideoMs);
    this.lastVideoMs = ms;
    const { params, body } = shape.split(u.nalus);
    if (params) {
      const key = Buffer.concat(params.flat());
      if (!this.paramSets || !key.equals(this.paramSets)) {
        this.paramSets = key;
        let record: Buffer;
        try {
          record = shape.record(params);
        } catch (err) {
          this.o.log.warn({ err: (err as Error).message }, `rtc_to_rtmp: bad ${shape.label} parameter sets`);
          return;
        }
        this.o.log.info({ bytes: record.length, layer: this.videoLayer }, `rtc_to_rtmp: ${shape.label} sequence header`);
        this.o.source.onFrame(new MediaFrame('video', shape.codec, ms, ms, true, true, record, null));
      }
    }
    if (!this.paramSets || body.length === 0) return;
    const payload = Buffer.allocUnsafe(body.reduce((n, b) => n + 4 + b.length, 0));
    let off = 0;
    for (const n of body) {
      payload.writeUInt32BE(n.length, off);
      n.copy(payload, off + 4);
      off += 4 + n.length;
    }
    this.framesOut++;
    this.o.source.onFrame(new MediaFrame('video', shape.codec, ms, ms, u.keyframe, false, payload, null));
  }

  private onAac(frame: Buffer, pts: number, asc: Buffer): void {
    if (this.stopped) return;
    const ms = Math.round(pts);
    if (!this.audioHeaderSent) {
      this.audioHeaderSent = true;
      this.o.log.info({ asc: asc.toString('hex') }, 'rtc_to_rtmp: AAC sequence header');
      this.o.source.onFrame(new MediaFrame('audio', 'AAC', ms, ms, false, true, asc, null));
    }
    this.audioFramesOut++;
    this.o.source.onFrame(new MediaFrame('audio', 'AAC', ms, ms, false, false, frame, null));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.transcoder?.close();
    this.transcoder = null;
  }
}
