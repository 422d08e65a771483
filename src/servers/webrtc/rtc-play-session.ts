/**
 * One WHEP (or /rtc/v1/play/) player: an RtcPlayer on the stream's RtcStream.
 * Per packet it rewrites payload type, SSRC, sequence and timestamp in place
 * and hands the bytes to libdatachannel (which copies and encrypts them
 * synchronously, so the shared packet can be rewritten for the next player).
 * It keeps a send history of packet references (no copies) to answer NACKs
 * (as RFC 4588 RTX packets when the player negotiated RTX, else resent on the
 * media SSRC), forwards PLI/FIR to the producer, and sends a Sender Report per
 * track every second. Of a simulcast producer it forwards one layer (the one
 * asked for by `?layer=`, else the top one), and moves to another only at
 * a keyframe of it, continuing its own sequence numbers and timeline so
 * that the browser sees one stream. With transport-wide-cc negotiated it
 * numbers every packet it sends (one counter for the player's transport,
 * written in place into the producer's own TWCC element when there is one),
 * estimates the player's bandwidth from its feedback, and a player that did
 * not pin a layer is moved to the layer its link carries (rtc-auto-layer.ts).
 */
import type { Track } from 'node-datachannel';
import type { ClientType, PlayLayerInfo } from '../../core/client-registry.js';
import { isRtcp, newRtpHeader, parseRtpHeader, rewriteRtp, type RtpHeader } from '../../protocol/rtp/rtp-packet.js';
import { buildRtx } from '../../protocol/rtp/rtx.js';
import { parseRtcp, buildSr } from '../../protocol/rtp/rtcp.js';
import { startsKeyframe, type RtpVideoCodec } from '../../protocol/rtp/video-keyframe.js';
import type { MediaKind, RtcPlayer, RtcProducer, RtcStream } from './rtc-stream.js';
import type { NegotiatedTrack } from './rtc-peer.js';
import { RtcSession, type RtcSessionInit } from './rtc-session.js';
import { copyWithTransportSeq, parseTwccFeedback } from '../../protocol/rtp/twcc.js';
import { TwccBandwidthEstimator } from '../../protocol/rtp/twcc-estimator.js';
import { AutoLayer } from './rtc-auto-layer.js';

const HISTORY = 1024;
const SR_INTERVAL_MS = 1000;
/** While a player waits for its first keyframe, it asks the producer again this often (ms). */
const KEYFRAME_RETRY_MS = 1000;
/**
 * A packet is resent at most this often (ms): a receiver behind a queue
 * NACKs the same packets again and again before the first resend can
 * arrive, and resending each time fills the queue further (a collapse).
 */
const RESEND_GAP_MS = 250;

class OutTrack {
  /** Video: the layer being forwarded, -1 while waiting for a keyframe (a new player or producer). */
  layer = -1;
  /** Added to the producer's sequence / timestamp; recomputed at each new producer. */
  seqOffset = 0;
  tsOffset = 0;
  /** The producer's sequence numbers of the latest run of padding packets left out, and the offset before it (for a late older packet). */
  paddingSeq = -1;
  paddingLast = -1;
  offsetBeforePadding = 0;
  paddingDropped = 0;
  synced = false;
  lastSeq = -1;
  lastTs = 0;
  lastSendWall = 0;
  packets = 0;
  octets = 0;
  retransmits = 0;
  /** The RTX stream's own sequence (RFC 4588 §4: independent of the media's). */
  rtxSeq = Math.floor(Math.random() * 0x8000);
  readonly historyBuf: (Buffer | undefined)[] = new Array(HISTORY);
  readonly historySeq = new Int32Array(HISTORY).fill(-1);
  readonly historyTs = new Float64Array(HISTORY);
  readonly historyResent = new Float64Array(HISTORY);

  constructor(
    readonly kind: MediaKind,
    readonly track: Track,
    readonly ssrc: number,
    readonly payloadType: number,
    readonly codec: RtpVideoCodec | 'opus',
    readonly clockRate: number,
    /** Negotiated RTX payload type and SSRC, or null: NACKs are then answered on the media SSRC. */
    readonly rtx: { payloadType: number; ssrc: number } | null,
  ) {}
}

export class RtcPlaySession extends RtcSession implements RtcPlayer {
  type: ClientType = 'rtc-play';
  private readonly out: { audio: OutTrack | null; video: OutTrack | null } = { audio: null, video: null };
  private srTimer: NodeJS.Timeout | null = null;
  private rtcStream: RtcStream | null = null;
  packetsSent = 0;
  packetsDropped = 0;
  private readonly nackHeader = newRtpHeader();
  /** Starts at "now": the stream asks once when the player is added. */
  private lastKeyframeAsk = Date.now();
  onRelease: ((s: RtcPlaySession, reason: string) => void) | null = null;
  /** The simulcast layer (RID) asked for, e.g. by `?layer=l`; null = the top layer. Changing it switches at the layer's next keyframe. */
  wantLayer: string | null = null;
  layerSwitches = 0;
  /** rtc.nack: off, the player's NACKs are not answered. */
  nack = true;
  /** The player's transport-wide-cc extension ID, 0 when not negotiated. */
  private twccExtId = 0;
  private twccSeq = 0;
  /** For packets without a TWCC element of the producer's to rewrite: copied here with one of ours. */
  private twccScratch: Buffer | null = null;
  estimator: TwccBandwidthEstimator | null = null;
  private readonly auto = new AutoLayer();
  /** The automatic layer (an index of the stream's layers), -1 = the top one; used only while wantLayer is null. */
  autoLayer = -1;
  autoSwitches = 0;

  constructor(init: RtcSessionInit) {
    super(init);
  }

  start(pc: Parameters<RtcSession['attachPeer']>[0], tracks: NegotiatedTrack[], stream: RtcStream, stunTimeoutMs: number): void {
    for (const t of tracks) {
      const o = new OutTrack(t.kind, t.track, t.ssrc, t.payloadType, t.format.codec, t.format.clockRate, t.rtx ?? null);
      this.out[t.kind] = o;
      if (t.twccExtId && !this.twccExtId) {
        this.twccExtId = t.twccExtId;
        this.twccSeq = Math.floor(Math.random() * 0x10000);
        this.estimator = new TwccBandwidthEstimator();
      }
      t.track.onMessage((msg) => this.onRtcp(o, msg));
    }
    this.rtcStream = stream;
    this.attachPeer(pc, tracks.map((t) => t.track), stunTimeoutMs);
  }

  protected onConnected(): void {
    this.rtcStream?.addPlayer(this);
    this.srTimer = setInterval(() => this.sendReports(), SR_INTERVAL_MS);
    this.srTimer.unref();
  }

  onProducer(_p: RtcProducer | null): void {
    // A new producer has layers of its own: start on its top one again.
    this.autoLayer = -1;
    for (const o of [this.out.audio, this.out.video]) {
      if (!o) continue;
      o.synced = false;
      o.layer = -1;
    }
  }

  /** The layer this player should get: the one it asked for if the producer has it, else the top one. */
  private targetLayer(): number {
    const s = this.rtcStream;
    if (!s || s.layers.length === 0) return 0;
    const i = this.wantLayer === null ? -1 : s.layers.indexOf(this.wantLayer);
    if (i >= 0) return i;
    return this.autoLayer >= 0 && this.autoLayer < s.layers.length ? this.autoLayer : s.topLayer();
  }

  /** The estimate and the layer choice, for the API. */
  layerInfo(): PlayLayerInfo {
    const s = this.rtcStream;
    const l = s && s.layers.length ? s.layers[this.out.video && this.out.video.layer >= 0 ? this.out.video.layer : this.targetLayer()] ?? null : null;
    return { layer: l, pinned: this.wantLayer !== null, auto_switches: this.autoSwitches, estimate_kbps: this.estimator && this.estimator.feedbacks ? Math.round(this.estimator.estimateBps / 1000) : null };
  }

  onRtp(kind: MediaKind, pkt: Buffer, h: RtpHeader, layer: number): void {
    const o = this.out[kind];
    if (!o || this.closed) return;
    if (kind === 'video' && layer !== o.layer) {
      // Another layer's packet (simulcast), or still waiting for the first keyframe.
      const want = this.targetLayer();
      if (layer !== want) return;
      if (!startsKeyframe(o.codec as RtpVideoCodec, pkt.subarray(h.payloadOffset, h.payloadEnd))) {
        if (o.layer < 0) this.packetsDropped++;
        // The join PLI can be lost, or folded by the encoder into a keyframe that passed
        // before this player was added; the browser asks for none (it has seen no video), so ask again.
        const now = Date.now();
        if (now - this.lastKeyframeAsk >= KEYFRAME_RETRY_MS) {
          this.lastKeyframeAsk = now;
          this.rtcStream?.requestKeyframe(want);
        }
        return;
      }
      // The wanted layer starts a keyframe: forward it from here on, as one continuous stream.
      if (o.layer >= 0) this.layerSwitches++;
      o.layer = layer;
      o.synced = false;
    }
    if (!o.synced) {
      // Continue our own sequence and timeline across producers (a republish, or RTMP→RTC after RTC) and layers.
      const nextSeq = o.lastSeq < 0 ? Math.floor(Math.random() * 0x8000) : o.lastSeq + 1;
      o.seqOffset = (nextSeq - h.sequence) & 0xffff;
      const elapsed = Math.max(1, Math.round(((Date.now() - o.lastSendWall) * o.clockRate) / 1000));
      const nextTs = o.lastSeq < 0 ? Math.floor(Math.random() * 0x7fffffff) : o.lastTs + elapsed;
      o.tsOffset = (nextTs - h.timestamp) >>> 0;
      o.synced = true;
      o.paddingSeq = -1;
    }
    let offset = o.seqOffset;
    if (kind === 'video' && h.payloadEnd === h.payloadOffset) {
      // Padding only: the publisher's bandwidth probe (browsers send thousands on a low simulcast layer), nothing for
      // the player but bytes on its link. Left out, and our numbering closes over it: a receiver stalls at a sequence gap.
      // Only in order; a reordered one goes out as before.
      if (((h.sequence + offset) & 0xffff) === ((o.lastSeq + 1) & 0xffff)) {
        if (o.paddingSeq < 0 || h.sequence !== ((o.paddingLast + 1) & 0xffff)) {
          o.paddingSeq = h.sequence;
          o.offsetBeforePadding = offset;
        }
        o.paddingLast = h.sequence;
        o.seqOffset = (offset - 1) & 0xffff;
        o.paddingDropped++;
        return;
      }
    } else if (o.paddingSeq >= 0) {
      // Older than the last padding left out (a late packet): it keeps the number it had before. Long past it: forgotten.
      if (((o.paddingSeq - h.sequence) & 0xffff) < 0x8000) offset = o.offsetBeforePadding;
      else if (((h.sequence - o.paddingSeq) & 0xffff) > 512) o.paddingSeq = -1;
    }
    const seq = (h.sequence + offset) & 0xffff;
    const ts = (h.timestamp + o.tsOffset) >>> 0;
    rewriteRtp(pkt, o.payloadType, seq, ts, o.ssrc);
    if (this.twccExtId) this.sendNumbered(o, pkt, h.payloadOffset, this.rtcStream?.ext.at ?? -1, this.rtcStream?.ext.ids ?? 0);
    else this.send(o, pkt);
    const i = seq % HISTORY;
    o.historyBuf[i] = pkt;
    o.historySeq[i] = seq;
    o.historyTs[i] = ts;
    o.historyResent[i] = 0;
    o.lastSeq = seq;
    o.lastTs = ts;
    o.lastSendWall = Date.now();
    o.packets++;
    o.octets += h.payloadEnd - h.payloadOffset;
    this.packetsSent++;
  }

  private send(o: OutTrack, pkt: Buffer): void {
    try {
      o.track.sendMessageBinary(pkt);
    } catch {
      // The track is not open yet or is closing: the packet is lost, as on the network.
    }
  }

  /**
   * Sends `pkt` with our next transport-wide sequence: written into the
   * producer's TWCC element at `at` when it has one and none of its other
   * elements (`ids`) uses our ID (the shared packet, like the rest of the header), else a
   * copy with an extension of its own (RTMP-bridged packets, retransmits).
   */
  private sendNumbered(o: OutTrack, pkt: Buffer, payloadOffset: number, at: number, ids: number): void {
    const id = this.twccExtId;
    const seq = this.twccSeq;
    this.twccSeq = (seq + 1) & 0xffff;
    if (at > 0 && !(ids & (1 << id))) {
      pkt[at - 1] = (id << 4) | 1;
      pkt.writeUInt16BE(seq, at);
      this.estimator!.onSent(seq, pkt.length, performance.now() * 1000);
      this.send(o, pkt);
      return;
    }
    if (!this.twccScratch || this.twccScratch.length < pkt.length + 8) this.twccScratch = Buffer.allocUnsafe(Math.max(1600, pkt.length + 8));
    const n = copyWithTransportSeq(pkt, payloadOffset, id, seq, this.twccScratch);
    this.estimator!.onSent(seq, n, performance.now() * 1000);
    this.send(o, this.twccScratch.subarray(0, n));
  }

  /** transport-cc feedback (RTPFB FMT 15) in a compound RTCP packet: the estimate, then the automatic layer. */
  private onTwccFeedback(msg: Buffer): void {
    const est = this.estimator;
    if (!est) return;
    for (let off = 0; off + 4 <= msg.length; ) {
      const len = (msg.readUInt16BE(off + 2) + 1) * 4;
      if (off + len > msg.length) return;
      if (msg[off + 1] === 205 && (msg[off]! & 0x1f) === 15) {
        try {
          est.onFeedback(parseTwccFeedback(msg.subarray(off, off + len)), performance.now() * 1000);
        } catch {
          return;
        }
        this.chooseLayer();
      }
      off += len;
    }
  }

  private chooseLayer(): void {
    const s = this.rtcStream;
    const v = this.out.video;
    if (!s || !v || s.layers.length < 2 || this.wantLayer !== null || !this.estimator) return;
    const current = this.targetLayer();
    const next = this.auto.choose(current, s.layerBps, this.estimator.estimateBps, performance.now());
    if (next === current) return;
    this.autoLayer = next;
    this.autoSwitches++;
    this.rtcStream?.requestKeyframe(next);
    this.log.info(
      {
        from: s.layers[current],
        to: s.layers[next],
        estimateKbps: Math.round(this.estimator.estimateBps / 1000),
        layerKbps: Math.round((s.layerBps[next] ?? 0) / 1000),
        layersKbps: Object.fromEntries(s.layers.map((rid, i) => [rid, Math.round((s.layerBps[i] ?? 0) / 1000)])),
        lossPct: Math.round(this.estimator.loss * 100),
        queueMs: Math.round(this.estimator.queueMs),
      },
      'WebRTC play: automatic layer switch',
    );
  }

  private onRtcp(o: OutTrack, msg: Buffer): void {
    if (this.closed || !isRtcp(msg)) return;
    if (this.estimator) this.onTwccFeedback(msg);
    let items;
    try {
      items = parseRtcp(msg);
    } catch {
      return;
    }
    for (const it of items) {
      if (it.type === 'pli' || it.type === 'fir') {
        if (o.kind === 'video') this.rtcStream?.requestKeyframe(o.layer >= 0 ? o.layer : this.targetLayer());
      } else if (it.type === 'nack' && this.nack) {
        const now = performance.now();
        for (const seq of it.lost) {
          const i = seq % HISTORY;
          const pkt = o.historyBuf[i];
          if (!pkt || o.historySeq[i] !== seq || now - o.historyResent[i]! < RESEND_GAP_MS) continue;
          o.historyResent[i] = now;
          // The shared packet may carry another player's header now: write ours again.
          rewriteRtp(pkt, o.payloadType, seq, o.historyTs[i]!, o.ssrc);
          if (o.rtx) {
            // A copy on loss only: the RTX packet has a payload of its own (OSN + the original's).
            const h = parseRtpHeader(pkt, this.nackHeader);
            const rtx = buildRtx(pkt, h, o.rtx.payloadType, o.rtxSeq, o.rtx.ssrc);
            o.rtxSeq = (o.rtxSeq + 1) & 0xffff;
            if (this.twccExtId) this.sendNumbered(o, rtx, h.payloadOffset, -1, 0);
            else this.send(o, rtx);
          } else if (this.twccExtId) this.sendNumbered(o, pkt, parseRtpHeader(pkt, this.nackHeader).payloadOffset, -1, 0);
          else this.send(o, pkt);
          o.retransmits++;
        }
      }
    }
  }

  private sendReports(): void {
    const now = Date.now();
    for (const o of [this.out.audio, this.out.video]) {
      if (!o || o.packets === 0) continue;
      const ts = (o.lastTs + Math.round(((now - o.lastSendWall) * o.clockRate) / 1000)) >>> 0;
      this.send(o, buildSr(o.ssrc, now, ts, o.packets, o.octets));
    }
  }

  protected override closeStats(): Record<string, number> {
    const v = this.out.video;
    const est = this.estimator;
    return {
      retransmits: (v?.retransmits ?? 0) + (this.out.audio?.retransmits ?? 0),
      rtx: v?.rtx ? v.retransmits : 0,
      padding_dropped: v?.paddingDropped ?? 0,
      ...(est ? { twcc_feedbacks: est.feedbacks, estimate_kbps: Math.round(est.estimateBps / 1000), auto_switches: this.autoSwitches } : {}),
    };
  }

  protected release(reason: string): void {
    if (this.srTimer) clearInterval(this.srTimer);
    this.srTimer = null;
    this.rtcStream?.removePlayer(this);
    this.onRelease?.(this, reason);
    this.rtcStream = null;
  }
}
