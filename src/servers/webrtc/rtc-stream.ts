/**
 * The RTP form of one stream (one LiveSource; the source registry holds the
 * name): one producer (the WHIP publisher of the source, or the RTMP→RTC
 * bridge for another publisher) and its WHEP players. RTP is forwarded without decoding; each
 * player rewrites SSRC, payload type, sequence and timestamp for itself
 * (rtc-play-session.ts). Keyframe requests from players are rate-limited
 * before they reach the producer. A simulcast producer's video comes in
 * layers (one per RID): each packet says its layer, the stream ranks the
 * layers by their bytes per second (the top one is what players get by
 * default and what feeds the frame form), and each player picks one.
 */
import { newRtpHeader, parseRtpHeader, type RtpHeader } from '../../protocol/rtp/rtp-packet.js';
import type { RtpVideoCodec } from '../../protocol/rtp/video-keyframe.js';
import { scanOneByteExtension } from '../../protocol/rtp/twcc.js';

export type MediaKind = 'audio' | 'video';

export interface RtcTrackFormat {
  /** `H264`, `H265`, `VP8`, `VP9`, `AV1` or `opus`. */
  codec: RtpVideoCodec | 'opus';
  clockRate: number;
  /** fmtp of the producer's codec (profile-level-id ...), '' if none. */
  fmtp: string;
}

export interface RtcProducer {
  readonly id: string;
  /** A WHIP publisher ('rtc') or the RTMP bridge ('bridge'). */
  readonly kind: 'rtc' | 'bridge';
  /** A keyframe of one simulcast layer (its index), or of the video (-1: the top layer). */
  requestKeyframe(layer?: number): void;
  /** The transport-wide-cc extension ID in the producer's packets, 0 if none. */
  readonly twccExtId?: number;
}

export interface RtcPlayer {
  readonly id: string;
  /** `h` describes `pkt` as the producer sent it; the player may rewrite `pkt`'s header in place. */
  onRtp(kind: MediaKind, pkt: Buffer, h: RtpHeader, layer: number): void;
  /** The producer changed (a new epoch): restart at a keyframe, keep sequence numbers continuous. */
  onProducer(producer: RtcProducer | null): void;
  close(reason: string): void;
}

/** Keyframe requests reach the producer at most this often (ms). */
const KEYFRAME_REQUEST_INTERVAL_MS = 500;
/** Layers are ranked over windows this long (ms). */
const RANK_WINDOW_MS = 1000;
/** Another layer becomes the top one when it carries this much more than the top one did. */
const RANK_HYSTERESIS = 1.2;

export class RtcStream {
  producer: RtcProducer | null = null;
  video: RtcTrackFormat | null = null;
  audio: RtcTrackFormat | null = null;
  readonly players = new Set<RtcPlayer>();
  packetsIn = 0;
  bytesIn = 0;
  keyframeRequests = 0;
  /** The producer's simulcast layers (RIDs, in its order); empty without simulcast. */
  layers: string[] = [];
  private readonly lastKeyframeRequest: number[] = [];
  private readonly header = newRtpHeader();
  private top = -1;
  private windowStart = 0;
  private windowBytes: number[] = [];
  /** Payload bits per second of each layer over the last ranking window. */
  layerBps: number[] = [];
  /**
   * The current packet's transport-wide-cc element (offset of its value, -1
   * if none) and the element IDs it has: players that number packets rewrite
   * it in place instead of copying the packet (rtc-play-session.ts).
   */
  readonly ext = { at: -1, ids: 0 };

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
  setProducer(p: RtcProducer, video: RtcTrackFormat | null, audio: RtcTrackFormat | null, layers: readonly string[] = []): boolean {
    if (this.producer && this.producer !== p) return false;
    this.producer = p;
    this.video = video;
    this.audio = audio;
    this.layers = layers.length > 1 ? [...layers] : [];
    this.top = -1;
    this.windowBytes = this.layers.map(() => 0);
    this.layerBps = this.layers.map(() => 0);
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

  /** One packet from the producer (of simulcast layer `layer`), fanned out to every player. Malformed packets are dropped. */
  onRtp(kind: MediaKind, pkt: Buffer, layer = 0): void {
    let h: RtpHeader;
    try {
      h = parseRtpHeader(pkt, this.header);
    } catch {
      return;
    }
    this.packetsIn++;
    this.bytesIn += pkt.length;
    // Media bytes only: a browser probes bandwidth with padding-only packets on its low layer (thousands with TWCC).
    if (kind === 'video' && this.layers.length) this.rank(layer, h.payloadEnd - h.payloadOffset);
    const twccId = this.producer?.twccExtId ?? 0;
    if (twccId > 0) scanOneByteExtension(pkt, twccId, this.ext);
    else this.ext.at = -1;
    for (const p of this.players) p.onRtp(kind, pkt, h, layer);
  }

  /** The layer players get unless they ask for another: the one with the most bytes per second (0 without simulcast). */
  topLayer(): number {
    return this.top < 0 ? 0 : this.top;
  }

  private rank(layer: number, bytes: number): void {
    if (layer >= this.windowBytes.length) return;
    if (this.top < 0) {
      // The first layer heard from, until a window says otherwise (browsers start the low layers first).
      this.top = layer;
      this.windowStart = this.now();
    }
    this.windowBytes[layer]! += bytes;
    const t = this.now();
    if (t - this.windowStart < RANK_WINDOW_MS) return;
    let best = this.top;
    for (let i = 0; i < this.windowBytes.length; i++) if (this.windowBytes[i]! > this.windowBytes[best]!) best = i;
    for (let i = 0; i < this.windowBytes.length; i++) this.layerBps[i] = (this.windowBytes[i]! * 8000) / (t - this.windowStart);
    if (this.windowBytes[this.top] === 0 || this.windowBytes[best]! > this.windowBytes[this.top]! * RANK_HYSTERESIS) this.top = best;
    this.windowBytes.fill(0);
    this.windowStart = t;
  }

  /** Asks the producer for a keyframe (of a layer, -1 = the top one), at most once per KEYFRAME_REQUEST_INTERVAL_MS per layer. */
  requestKeyframe(layer = -1): void {
    const t = this.now();
    const l = this.layers.length ? (layer < 0 ? this.topLayer() : layer) : 0;
    if (!this.producer || t - (this.lastKeyframeRequest[l] ?? -Infinity) < KEYFRAME_REQUEST_INTERVAL_MS) return;
    this.lastKeyframeRequest[l] = t;
    this.keyframeRequests++;
    this.producer.requestKeyframe(this.layers.length ? l : -1);
  }
}
