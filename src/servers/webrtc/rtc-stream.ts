/**
 * The WebRTC side of one stream: one producer (a WHIP publisher, or the
 * RTMP→RTC bridge) and its players. RTP is forwarded without decoding; each
 * player rewrites SSRC, payload type, sequence and timestamp for itself
 * (rtc-play-session.ts). Keyframe requests from players are rate-limited
 * before they reach the producer.
 */
import { newRtpHeader, parseRtpHeader, type RtpHeader } from '../../protocol/rtp/rtp-packet.js';
import type { RtpVideoCodec } from '../../protocol/rtp/video-keyframe.js';

export type MediaKind = 'audio' | 'video';

export interface RtcTrackFormat {
  /** `H264`, `VP8`, `VP9`, `AV1` or `opus`. */
  codec: RtpVideoCodec | 'opus';
  clockRate: number;
  /** fmtp of the producer's codec (profile-level-id ...), '' if none. */
  fmtp: string;
}

export interface RtcProducer {
  readonly id: string;
  /** A WHIP publisher ('rtc') or the RTMP bridge ('bridge'). */
  readonly kind: 'rtc' | 'bridge';
  requestKeyframe(): void;
}

export interface RtcPlayer {
  readonly id: string;
  /** `h` describes `pkt` as the producer sent it; the player may rewrite `pkt`'s header in place. */
  onRtp(kind: MediaKind, pkt: Buffer, h: RtpHeader): void;
  /** The producer changed (a new epoch): restart at a keyframe, keep sequence numbers continuous. */
  onProducer(producer: RtcProducer | null): void;
  close(reason: string): void;
}

/** Keyframe requests reach the producer at most this often (ms). */
const KEYFRAME_REQUEST_INTERVAL_MS = 500;

export class RtcStream {
  producer: RtcProducer | null = null;
  video: RtcTrackFormat | null = null;
  audio: RtcTrackFormat | null = null;
  readonly players = new Set<RtcPlayer>();
  packetsIn = 0;
  bytesIn = 0;
  keyframeRequests = 0;
  private lastKeyframeRequest = -Infinity;
  private readonly header = newRtpHeader();

  constructor(
    readonly vhost: string,
    readonly app: string,
    readonly stream: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get key(): string {
    return `${this.vhost}/${this.app}/${this.stream}`;
  }

  /** Takes the stream for a producer; false when another one holds it. */
  setProducer(p: RtcProducer, video: RtcTrackFormat | null, audio: RtcTrackFormat | null): boolean {
    if (this.producer && this.producer !== p) return false;
    this.producer = p;
    this.video = video;
    this.audio = audio;
    for (const pl of this.players) pl.onProducer(p);
    return true;
  }

  removeProducer(p: RtcProducer): void {
    if (this.producer !== p) return;
    this.producer = null;
    for (const pl of this.players) pl.onProducer(null);
  }

  addPlayer(p: RtcPlayer): void {
    this.players.add(p);
    this.requestKeyframe();
  }

  removePlayer(p: RtcPlayer): void {
    this.players.delete(p);
  }

  /** One packet from the producer, fanned out to every player. Malformed packets are dropped. */
  onRtp(kind: MediaKind, pkt: Buffer): void {
    let h: RtpHeader;
    try {
      h = parseRtpHeader(pkt, this.header);
    } catch {
      return;
    }
    this.packetsIn++;
    this.bytesIn += pkt.length;
    for (const p of this.players) p.onRtp(kind, pkt, h);
  }

  /** Asks the producer for a keyframe, at most once per KEYFRAME_REQUEST_INTERVAL_MS. */
  requestKeyframe(): void {
    const t = this.now();
    if (!this.producer || t - this.lastKeyframeRequest < KEYFRAME_REQUEST_INTERVAL_MS) return;
    this.lastKeyframeRequest = t;
    this.keyframeRequests++;
    this.producer.requestKeyframe();
  }
}

/** The RTC streams of one server, by vhost/app/stream; a stream is dropped when it has no producer and no player. */
export class RtcStreamRegistry {
  private readonly streams = new Map<string, RtcStream>();

  getOrCreate(vhost: string, app: string, stream: string): RtcStream {
    const key = `${vhost}/${app}/${stream}`;
    let s = this.streams.get(key);
    if (!s) this.streams.set(key, (s = new RtcStream(vhost, app, stream)));
    return s;
  }

  get(vhost: string, app: string, stream: string): RtcStream | undefined {
    return this.streams.get(`${vhost}/${app}/${stream}`);
  }

  release(s: RtcStream): void {
    if (!s.producer && s.players.size === 0 && this.streams.get(s.key) === s) this.streams.delete(s.key);
  }

  all(): IterableIterator<RtcStream> {
    return this.streams.values();
  }

  get size(): number {
    return this.streams.size;
  }
}
