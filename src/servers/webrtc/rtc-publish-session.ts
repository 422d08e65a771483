/**
 * One WHIP (or /rtc/v1/publish/) publisher: the publisher of its stream's
 * LiveSource (as an RTMP publisher is) and the producer of the source's RTP
 * form (RtcStream). Packets are forwarded to WHEP players as they arrive
 * (players reorder themselves); with `rtc_to_rtmp on` the RTC→RTMP bridge
 * also makes the frame form for the other players, with its own jitter
 * buffer, retransmission requests (NACK) and keyframe requests (PLI).
 * A simulcast publisher's layers are told apart by rtc-publish-router.ts;
 * PLI and NACK name the layer's SSRC, and the top layer feeds the bridge.
 * Retransmissions that come as RTX (RFC 4588) are unwrapped into the media
 * stream; with transport-wide-cc negotiated, every packet's arrival is
 * reported back (TWCC feedback) for the browser's bandwidth estimator.
 */
import type { ClientType } from '../../core/client-registry.js';
import type { Publisher } from '../../live/live-source.js';
import { performance } from 'node:perf_hooks';
import { isRtcp, newRtpHeader, parseRtpHeader } from '../../protocol/rtp/rtp-packet.js';
import { unwrapRtx } from '../../protocol/rtp/rtx.js';
import { readTransportSeq, TwccRecorder } from '../../protocol/rtp/twcc.js';
import { buildNack, buildPli, buildRr, buildRemb, parseRtcp, ReceiveStats, type ReportBlock } from '../../protocol/rtp/rtcp.js';
import type { RtcProducer, RtcStream, RtcTrackFormat } from './rtc-stream.js';
import type { NegotiatedTrack } from './rtc-peer.js';
import { PublishRouter } from './rtc-publish-router.js';
import { LayerNack } from './rtc-layer-nack.js';
import { RtcSession, type RtcSessionInit } from './rtc-session.js';
import type { RtcToRtmpBridge } from './rtc-to-rtmp-bridge.js';

/** Our SSRC as the sender of feedback (RTCP PLI/NACK/RR). */
const FEEDBACK_SSRC = 1;
const RR_INTERVAL_MS = 1000;
/** How often the layers not taken by the bridge are checked for loss (ms). */
const LAYER_NACK_INTERVAL_MS = 20;
/** The ceiling announced by REMB: browsers ramp up to it on a clean network. */
const REMB_BITRATE = 2_500_000;
/** How often arrivals are reported by transport-cc feedback (libwebrtc's receivers: 50–250 ms). */
const TWCC_INTERVAL_MS = 50;
/** Sequence numbers remembered for RTX duplicate detection (the bridge's jitter buffer holds 1024). */
const SEEN = 2048;

export class RtcPublishSession extends RtcSession implements RtcProducer, Publisher {
  type: ClientType = 'rtc-publish';
  readonly kind = 'rtc' as const;
  private videoTrack: NegotiatedTrack | null = null;
  private audioTrack: NegotiatedTrack | null = null;
  /** The SSRC of each video layer seen (index 0 without simulcast). */
  private readonly layerSsrcs: number[] = [];
  private router: PublishRouter | null = null;
  private readonly header = newRtpHeader();
  private rtcStream: RtcStream | null = null;
  bridge: RtcToRtmpBridge | null = null;
  /** drop_for_pt: a payload type to drop (debugging), 0 = none. */
  dropPt = 0;
  /** rtc.nack: off, no NACK is sent to the publisher (the bridge's and the layers'). */
  nack = true;
  packetsIn = 0;
  /** RTX packets received, and those of them that carried a packet (the rest are padding: bandwidth probes). */
  rtxIn = 0;
  rtxRepaired = 0;
  /** Unwrapped RTX packets that were already here (the browser probes bandwidth with copies of sent packets too). */
  rtxDuplicates = 0;
  /** Video sequence numbers received lately (by seq mod size), so that a duplicate RTX packet is not forwarded. */
  private readonly seenSeq = new Int32Array(SEEN).fill(-1);
  private readonly seenSsrc = new Uint32Array(SEEN);
  private twcc: TwccRecorder | null = null;
  /** The transport-wide-cc header extension ID (one per session), 0 when not negotiated. */
  twccExtId = 0;
  private twccTimer: NodeJS.Timeout | null = null;
  private readonly stats = new Map<number, ReceiveStats>();
  private rrTimer: NodeJS.Timeout | null = null;
  private nackTimer: NodeJS.Timeout | null = null;
  private layerNack: LayerNack | null = null;
  onRelease: ((s: RtcPublishSession, reason: string) => void) | null = null;
  /** Called when the LiveSource asks this publisher to stop (API kick). */
  kick(reason: string): void {
    this.close(reason);
  }

  constructor(init: RtcSessionInit) {
    super(init);
  }

  formats(): { video: RtcTrackFormat | null; audio: RtcTrackFormat | null } {
    return { video: this.videoTrack?.format ?? null, audio: this.audioTrack?.format ?? null };
  }

  /** The video layers (RIDs) of a simulcast publisher, else empty. */
  get layers(): string[] {
    return this.router?.layers ?? [];
  }

  start(pc: Parameters<RtcSession['attachPeer']>[0], tracks: NegotiatedTrack[], stream: RtcStream, stunTimeoutMs: number, sharedTrack = false): void {
    this.rtcStream = stream;
    this.router = new PublishRouter(tracks, sharedTrack);
    const listened = new Set<NegotiatedTrack['track']>();
    for (const t of tracks) {
      if (t.kind === 'video') this.videoTrack = t;
      else this.audioTrack = t;
      if (t.twccExtId && !this.twcc) {
        this.twcc = new TwccRecorder();
        this.twccExtId = t.twccExtId;
      }
      // One listener per libdatachannel track: a shared track carries every section.
      if (listened.has(t.track)) continue;
      listened.add(t.track);
      // No media handler on purpose: libdatachannel then lets RTCP (PLI, NACK, RR) out of a receive-only track.
      const kind = sharedTrack ? null : t.kind;
      t.track.onMessage((msg) => this.onPacket(kind, msg));
    }
    this.attachPeer(pc, [...listened], stunTimeoutMs);
  }

  protected onConnected(): void {
    this.requestKeyframe();
    this.rrTimer = setInterval(() => this.sendReports(), RR_INTERVAL_MS);
    this.rrTimer.unref();
    if (this.layers.length > 1 && this.nack) {
      this.layerNack = new LayerNack();
      this.nackTimer = setInterval(() => this.nackLayers(), LAYER_NACK_INTERVAL_MS);
      this.nackTimer.unref();
    }
    if (this.twcc) {
      this.twccTimer = setInterval(() => this.sendTwcc(), TWCC_INTERVAL_MS);
      this.twccTimer.unref();
    }
  }

  /** NACKs for the layers the bridge does not watch (it NACKs the one it takes). */
  private nackLayers(): void {
    const now = performance.now();
    const bridged = this.bridge ? (this.rtcStream?.topLayer() ?? 0) : -1;
    for (let l = 0; l < this.layers.length; l++) {
      if (l === bridged) continue;
      const seqs = this.layerNack?.missing(l, now) ?? [];
      if (seqs.length) this.sendNack(seqs, l);
    }
  }

  private sendTwcc(): void {
    const t = this.videoTrack ?? this.audioTrack;
    if (!this.twcc || !t) return;
    const media = this.layerSsrcs.find((x) => x > 0) || t.remoteSsrcs[0] || 0;
    for (const b of this.twcc.flush(FEEDBACK_SSRC, media)) this.sendRtcp(t, b);
  }

  private onRtcp(msg: Buffer): void {
    let items;
    try {
      items = parseRtcp(msg);
    } catch {
      return;
    }
    for (const it of items) if (it.type === 'sr') this.stats.get(it.ssrc)?.onSenderReport(it.ntpSec, it.ntpFrac, Date.now());
  }

  private sendReports(): void {
    const now = Date.now();
    for (const t of [this.videoTrack, this.audioTrack]) {
      if (!t) continue;
      const blocks: ReportBlock[] = [];
      const ssrcs: number[] = [];
      for (const st of this.stats.values()) {
        if ((t.kind === 'video') !== (st.clockRate === 90000)) continue;
        const b = st.block(now);
        if (b) blocks.push(b);
        ssrcs.push(st.ssrc);
      }
      if (blocks.length === 0) continue;
      this.sendRtcp(t, t.kind === 'video' ? Buffer.concat([buildRr(FEEDBACK_SSRC, blocks), buildRemb(FEEDBACK_SSRC, REMB_BITRATE, ssrcs)]) : buildRr(FEEDBACK_SSRC, blocks));
    }
  }

  private onPacket(hint: 'audio' | 'video' | null, msg: Buffer): void {
    if (this.closed) return;
    if (isRtcp(msg)) return this.onRtcp(msg);
    let h;
    try {
      h = parseRtpHeader(msg, this.header);
    } catch {
      return;
    }
    // Transport-wide: every packet of the session counts, whatever its section, layer or payload.
    if (this.twcc) {
      const seq = readTransportSeq(msg, this.twccExtId);
      if (seq >= 0) this.twcc.onPacket(seq, performance.now() * 1000);
    }
    if (h.payloadType === this.dropPt) return;
    const route = this.router?.route(hint, msg, h);
    // A repair stream named by repaired-RID (a simulcast layer's RTX, not in our answer): dropped.
    if (!route || route.repair) return;
    const { kind, layer, track: t } = route;
    if (t.rtx && h.payloadType === t.rtx.payloadType) {
      this.rtxIn++;
      const media = t.rtxToMedia?.get(h.ssrc) ?? this.layerSsrcs[layer] ?? 0;
      const inner = media ? unwrapRtx(msg, h, t.payloadType, media) : null;
      if (!inner) return;
      msg = inner;
      h = parseRtpHeader(msg, this.header);
      const i = h.sequence % SEEN;
      if (this.seenSeq[i] === h.sequence && this.seenSsrc[i] === h.ssrc) {
        this.rtxDuplicates++;
        return;
      }
      this.rtxRepaired++;
    }
    if (h.payloadType !== t.payloadType) return;
    if (kind === 'video') {
      this.layerSsrcs[layer] = h.ssrc;
      this.layerNack?.onPacket(layer, h.sequence, performance.now());
      const i = h.sequence % SEEN;
      this.seenSeq[i] = h.sequence;
      this.seenSsrc[i] = h.ssrc;
    }
    this.packetsIn++;
    let st = this.stats.get(h.ssrc);
    if (!st && this.stats.size < 8) this.stats.set(h.ssrc, (st = new ReceiveStats(h.ssrc, t.format.clockRate)));
    st?.onPacket(h.sequence, h.timestamp, Date.now());
    // The bridge reads the header before the SFU rewrites it for players; it takes the top layer.
    if (kind === 'audio' || layer === (this.rtcStream?.topLayer() ?? 0)) this.bridge?.onRtp(kind, msg, h, layer);
    this.rtcStream?.onRtp(kind, msg, layer);
  }

  /** PLI to the browser's video sender: one layer's SSRC, or (-1) the top layer's. */
  requestKeyframe(layer = -1): void {
    const t = this.videoTrack;
    if (!t || this.closed) return;
    const l = layer >= 0 ? layer : (this.rtcStream?.topLayer() ?? 0);
    const media = this.layerSsrcs[l] || this.layerSsrcs.find((s) => s > 0) || t.remoteSsrcs[0] || 0;
    this.sendRtcp(t, buildPli(FEEDBACK_SSRC, media));
  }

  /** NACK to the sender of one layer (the bridge's). */
  sendNack(seqs: number[], layer = 0): void {
    const t = this.videoTrack;
    const ssrc = this.layerSsrcs[layer];
    if (!t || this.closed || seqs.length === 0 || !ssrc || !this.nack) return;
    this.sendRtcp(t, buildNack(FEEDBACK_SSRC, ssrc, seqs));
  }

  private sendRtcp(t: NegotiatedTrack, b: Buffer): void {
    try {
      t.track.sendMessageBinary(b);
    } catch {
      /* not open yet */
    }
  }

  protected override closeStats(): Record<string, number> {
    return { packets: this.packetsIn, rtx: this.rtxIn, rtx_repaired: this.rtxRepaired, rtx_duplicates: this.rtxDuplicates, twcc_feedbacks: this.twcc?.feedbacks ?? 0 };
  }

  protected release(reason: string): void {
    if (this.rrTimer) clearInterval(this.rrTimer);
    this.rrTimer = null;
    if (this.nackTimer) clearInterval(this.nackTimer);
    this.nackTimer = null;
    if (this.twccTimer) clearInterval(this.twccTimer);
    this.twccTimer = null;
    this.bridge?.stop();
    this.bridge = null;
    this.rtcStream?.removeProducer(this);
    this.rtcStream = null;
    this.onRelease?.(this, reason);
  }
}
