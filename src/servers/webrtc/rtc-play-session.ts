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
 * that the browser sees one stream.
 */
import type { Track } from 'node-datachannel';
import type { ClientType } from '../../core/client-registry.js';
import { isRtcp, newRtpHeader, parseRtpHeader, rewriteRtp, type RtpHeader } from '../../protocol/rtp/rtp-packet.js';
import { buildRtx } from '../../protocol/rtp/rtx.js';
import { parseRtcp, buildSr } from '../../protocol/rtp/rtcp.js';
import { startsKeyframe, type RtpVideoCodec } from '../../protocol/rtp/video-keyframe.js';
import type { MediaKind, RtcPlayer, RtcProducer, RtcStream } from './rtc-stream.js';
import type { NegotiatedTrack } from './rtc-peer.js';
import { RtcSession, type RtcSessionInit } from './rtc-session.js';

const HISTORY = 1024;
const SR_INTERVAL_MS = 1000;
/** While a player waits for its first keyframe, it asks the producer again this often (ms). */
const KEYFRAME_RETRY_MS = 1000;

class OutTrack {
  /** Video: the layer being forwarded, -1 while waiting for a keyframe (a new player or producer). */
  layer = -1;
  /** Added to the producer's sequence / timestamp; recomputed at each new producer. */
  seqOffset = 0;
  tsOffset = 0;
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

  constructor(init: RtcSessionInit) {
    super(init);
  }

  start(pc: Parameters<RtcSession['attachPeer']>[0], tracks: NegotiatedTrack[], stream: RtcStream, stunTimeoutMs: number): void {
    for (const t of tracks) {
      const o = new OutTrack(t.kind, t.track, t.ssrc, t.payloadType, t.format.codec, t.format.clockRate, t.rtx ?? null);
      this.out[t.kind] = o;
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
    return i >= 0 ? i : s.topLayer();
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
    }
    const seq = (h.sequence + o.seqOffset) & 0xffff;
    const ts = (h.timestamp + o.tsOffset) >>> 0;
    rewriteRtp(pkt, o.payloadType, seq, ts, o.ssrc);
    this.send(o, pkt);
    const i = seq % HISTORY;
    o.historyBuf[i] = pkt;
    o.historySeq[i] = seq;
    o.historyTs[i] = ts;
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

  private onRtcp(o: OutTrack, msg: Buffer): void {
    if (this.closed || !isRtcp(msg)) return;
    let items;
    try {
      items = parseRtcp(msg);
    } catch {
      return;
    }
    for (const it of items) {
      if (it.type === 'pli' || it.type === 'fir') {
        if (o.kind === 'video') this.rtcStream?.requestKeyframe(o.layer >= 0 ? o.layer : this.targetLayer());
      } else if (it.type === 'nack') {
        for (const seq of it.lost) {
          const i = seq % HISTORY;
          const pkt = o.historyBuf[i];
          if (!pkt || o.historySeq[i] !== seq) continue;
          // The shared packet may carry another player's header now: write ours again.
          rewriteRtp(pkt, o.payloadType, seq, o.historyTs[i]!, o.ssrc);
          if (o.rtx) {
            // A copy on loss only: the RTX packet has a payload of its own (OSN + the original's).
            this.send(o, buildRtx(pkt, parseRtpHeader(pkt, this.nackHeader), o.rtx.payloadType, o.rtxSeq, o.rtx.ssrc));
            o.rtxSeq = (o.rtxSeq + 1) & 0xffff;
          } else this.send(o, pkt);
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
    return { retransmits: (v?.retransmits ?? 0) + (this.out.audio?.retransmits ?? 0), rtx: v?.rtx ? v.retransmits : 0 };
  }

  protected release(reason: string): void {
    if (this.srTimer) clearInterval(this.srTimer);
    this.srTimer = null;
    this.rtcStream?.removePlayer(this);
    this.onRelease?.(this, reason);
    this.rtcStream = null;
  }
}
