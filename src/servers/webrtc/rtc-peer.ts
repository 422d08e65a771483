/**
 * Answers one SDP offer with a node-datachannel (libdatachannel) peer: the
 * codec per media section is chosen here (H.264 packetization-mode 1, VP8,
 * VP9 or AV1 for video, Opus for audio), the peer shares the server's one
 * UDP port (ICE UDP mux), and the answer carries the server's candidates.
 * DTLS, SRTP and ICE are libdatachannel's.
 */
import ndc from 'node-datachannel';
import type { PeerConnection, Track } from 'node-datachannel';
import { parseSdp, chooseH264, chooseCodec, replaceCandidates, withoutCandidates, type SdpCodec, type SdpMedia } from '../../protocol/rtp/sdp.js';
import type { MediaKind, RtcTrackFormat } from './rtc-stream.js';
import type { RtpVideoCodec } from '../../protocol/rtp/video-keyframe.js';
import { MID_URI, parseMediaRouting, simulcastAnswerLines, type MediaRouting } from '../../protocol/rtp/simulcast-sdp.js';
import { answerWithSections, offerWithOneSection } from '../../protocol/rtp/sdp-one-section.js';
import { parseMediaRepair, rtxPayloadFor, hasFeedback, withoutFeedback } from '../../protocol/rtp/sdp-repair.js';
import { TWCC_URI } from '../../protocol/rtp/twcc.js';

/** An error with SRS's code (5018 SDP negotiation, 5020 busy, 5021 disabled, ...). */
export class RtcError extends Error {
  override readonly name = 'RtcError';
  constructor(
    message: string,
    readonly code: number,
    /** The HTTP status when the code alone does not say it (a policy's 401). */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface PeerTransport {
  /** libjuice's UDP mux port (the public port, or a loopback one behind the gateway). */
  udpPort: number;
  /**
   * The mux's bind address when it is not the wildcard: the gateway's
   * loopback. libjuice is then hidden: it gets the offer without the
   * client's candidates (it learns the client only from the checks the
   * gateway forwards) and its own port never appears in the answer.
   */
  bindAddress?: string;
  /** Candidate lines without the `a=` (see candidates.ts). */
  candidates: string[];
}

export interface NegotiatedTrack {
  kind: MediaKind;
  mid: string;
  payloadType: number;
  format: RtcTrackFormat;
  track: Track;
  /** Our SSRC on a send track (play); the peer's SSRCs from the offer on a receive track (publish). */
  ssrc: number;
  remoteSsrcs: number[];
  /** Publish: the section's mid/RID extension IDs and simulcast layers (rids empty without simulcast). */
  routing?: MediaRouting | null;
  /**
   * RFC 4588 retransmission, when the offer pairs an `rtx` payload type with
   * the codec: on play our RTX SSRC (FID group in the answer), on publish 0
   * (the peer's RTX SSRCs are in `rtxToMedia`).
   */
  rtx?: { payloadType: number; ssrc: number } | null;
  /** Publish: the offer's FID groups, RTX SSRC → media SSRC. */
  rtxToMedia?: Map<number, number>;
  /** The transport-wide-cc header extension ID when negotiated (publish: we report; play: we number), else 0. */
  twccExtId?: number;
}

export interface Negotiated {
  pc: PeerConnection;
  answer: string;
  tracks: NegotiatedTrack[];
  localUfrag: string;
  /** Our ICE password: the key of the client's STUN MESSAGE-INTEGRITY. */
  localPwd: string;
  remoteUfrag: string;
  /**
   * Publish: libdatachannel holds one track for all sections (see
   * sdp-one-section.ts), so every packet arrives on it and the session tells
   * audio, video and the layers apart itself.
   */
  sharedTrack: boolean;
}

export interface NegotiateOptions {
  name: string;
  offer: string;
  role: 'publish' | 'play';
  transport: PeerTransport;
  /** For play: the stream's formats when known (the player must take the same codec). */
  video?: RtcTrackFormat | null;
  audio?: RtcTrackFormat | null;
  /** For play: prefer this H.264 profile_idc (hex, e.g. `64`). */
  h264Profile?: string;
  /** How long to wait for libdatachannel's answer (ms). */
  timeoutMs?: number;
  /** Answer the transport-wide-cc extension and feedback when offered (vhost `rtc.twcc`). */
  twcc?: boolean;
  /** Off (vhost `rtc.nack off`): the answer offers no generic NACK feedback (`nack pli` stays) and no RTX. */
  nack?: boolean;
}

/** A publisher's H.265 is taken only when it offers nothing else: few WebRTC players decode it. */
const VIDEO_ORDER: RtpVideoCodec[] = ['H264', 'VP8', 'VP9', 'AV1', 'H265'];

function pickVideo(m: SdpMedia, want: RtcTrackFormat | null | undefined, h264Profile: string): { codec: SdpCodec; name: RtpVideoCodec } | null {
  const order = want && want.codec !== 'opus' ? [want.codec as RtpVideoCodec] : VIDEO_ORDER;
  for (const name of order) {
    const c = name === 'H264' ? chooseH264(m, h264Profile) : chooseCodec(m, name);
    if (c) return { codec: c, name };
  }
  return null;
}

export async function negotiate(o: NegotiateOptions): Promise<Negotiated> {
  let offer;
  try {
    offer = parseSdp(o.offer);
  } catch (err) {
    throw new RtcError(`bad offer: ${(err as Error).message}`, 5018);
  }
  if (offer.bundle.length === 0) throw new RtcError('offer without a=group:BUNDLE', 5018);
  const media = offer.media.filter((m) => m.kind === 'audio' || m.kind === 'video');
  if (media.length === 0) throw new RtcError('offer has no audio or video', 5018);
  const plans: { m: SdpMedia; codec: SdpCodec; format: RtcTrackFormat }[] = [];
  for (const m of media) {
    if (!m.rtcpMux) throw new RtcError(`media ${m.mid}: rtcp-mux required`, 5018);
    if (o.role === 'publish' && m.direction === 'recvonly') throw new RtcError('publish offer is recvonly', 5018);
    if (o.role === 'play' && m.direction === 'sendonly') throw new RtcError('play offer is sendonly', 5018);
    if (m.direction === 'inactive') continue;
    if (m.kind === 'video') {
      if (plans.some((p) => p.m.kind === 'video')) continue;
      const v = pickVideo(m, o.video, o.h264Profile ?? '42');
      if (!v) continue;
      plans.push({ m, codec: v.codec, format: { codec: v.name, clockRate: v.codec.clockRate || 90000, fmtp: v.codec.fmtp } });
    } else {
      if (plans.some((p) => p.m.kind === 'audio')) continue;
      const a = chooseCodec(m, 'opus');
      if (!a) continue;
      plans.push({ m, codec: a, format: { codec: 'opus', clockRate: 48000, fmtp: a.fmtp } });
    }
  }
  if (plans.length === 0) throw new RtcError('no supported codec in the offer (H.264/VP8/VP9/AV1/H.265, Opus)', 5018);

  const routing = o.role === 'publish' ? parseMediaRouting(o.offer) : [];
  const routingOf = (mid: string): MediaRouting | null => routing.find((r) => r.mid === mid) ?? null;
  // Sections whose SSRCs the offer does not list (simulcast layers) reach libdatachannel's tracks only if it has one track.
  const shared = o.role === 'publish' && plans.length > 1 && plans.length === offer.media.length && plans.some((p) => p.m.ssrcs.length === 0);
  const hostMid = shared ? (plans.find((p) => p.m.ssrcs.length === 0 && p.m.kind === 'video') ?? plans.find((p) => p.m.ssrcs.length === 0)!).m.mid : '';
  const repair = parseMediaRepair(o.offer);
  const pc = new ndc.PeerConnection(o.name, {
    iceServers: [],
    enableIceUdpMux: true,
    portRangeBegin: o.transport.udpPort,
    portRangeEnd: o.transport.udpPort,
    ...(o.transport.bindAddress ? { bindAddress: o.transport.bindAddress } : {}),
  });
  try {
    const tracks: NegotiatedTrack[] = [];
    const others = new Map<string, string>();
    let hostTrack: Track | null = null;
    const pending: NegotiatedTrack[] = [];
    for (const p of plans) {
      const dir = o.role === 'publish' ? 'RecvOnly' : 'SendOnly';
      const pt = p.codec.payloadType;
      const ssrc = o.role === 'play' ? randomSsrc() : 0;
      const mr = repair.get(p.m.mid);
      const r = routingOf(p.m.mid);
      let rtx: NegotiatedTrack['rtx'] = null;
      let twccExtId = 0;
      let desc;
      if (p.m.kind === 'video') {
        const v = new ndc.Video(p.m.mid, dir);
        if (p.format.codec === 'H264') v.addH264Codec(pt, p.codec.fmtp);
        else if (p.format.codec === 'H265') v.addH265Codec(pt);
        else if (p.format.codec === 'VP8') v.addVP8Codec(pt);
        else if (p.format.codec === 'VP9') v.addVP9Codec(pt);
        else v.addAV1Codec(pt);
        // Not for simulcast layers: without RTX the publisher resends on each layer's own SSRC, which is NACKed per layer.
        const rtxPt = (r && r.rids.length > 1) || o.nack === false ? 0 : rtxPayloadFor(p.m, pt);
        if (rtxPt) {
          v.addRTXCodec(rtxPt, pt, 90000);
          rtx = { payloadType: rtxPt, ssrc: o.role === 'play' ? randomSsrc() : 0 };
        }
        if (ssrc) {
          v.addSSRC(ssrc, `sluice-${o.name}`, `sluice-${o.name}`, `video-${o.name}`);
          if (rtx) {
            // Lines of our own, not addSSRC: it would repeat the section's a=msid.
            v.parseSdpLine(`a=ssrc:${rtx.ssrc} cname:sluice-${o.name}`);
            v.parseSdpLine(`a=ssrc-group:FID ${ssrc} ${rtx.ssrc}`);
          }
        }
        desc = v;
      } else {
        const a = new ndc.Audio(p.m.mid, dir);
        a.addOpusCodec(pt, p.codec.fmtp || 'minptime=10;useinbandfec=1');
        if (ssrc) a.addSSRC(ssrc, `sluice-${o.name}`, `sluice-${o.name}`, `audio-${o.name}`);
        desc = a;
      }
      const extId = mr?.extensions.get(TWCC_URI) ?? 0;
      if (o.twcc !== false && extId > 0 && hasFeedback(p.m, pt, 'transport-cc')) {
        // Publish: the publisher's bandwidth estimator then runs on our feedback (rtc-publish-session.ts) instead of REMB alone.
        // Play: we number what we send and estimate the player's bandwidth from its feedback (automatic simulcast layer).
        desc.parseSdpLine(`a=extmap:${extId} ${TWCC_URI}`);
        desc.parseSdpLine(`a=rtcp-fb:${pt} transport-cc`);
        twccExtId = extId;
      }
      const layers = r && p.m.kind === 'video' ? simulcastAnswerLines(r) : [];
      for (const l of layers) desc.parseSdpLine(l);
      // On a shared track the MID names a packet's section until its SSRC is known.
      if (shared && r?.midExt && layers.length === 0) desc.parseSdpLine(`a=extmap:${r.midExt} ${MID_URI}`);
      const nt = {
        kind: p.m.kind as MediaKind, mid: p.m.mid, payloadType: pt, format: p.format, ssrc, remoteSsrcs: p.m.ssrcs,
        routing: layers.length ? r : r && { ...r, rids: [] }, rtx, rtxToMedia: mr?.rtxToMedia ?? new Map<number, number>(), twccExtId,
      };
      if (shared && p.m.mid !== hostMid) {
        others.set(p.m.mid, desc.generateSdp('\r\n', '0.0.0.0', 9));
        pending.push(nt as NegotiatedTrack);
        continue;
      }
      const track = pc.addTrack(desc);
      if (shared) hostTrack = track;
      tracks.push({ ...nt, track });
    }
    for (const nt of pending) tracks.push({ ...nt, track: hostTrack! });
    tracks.sort((a, b) => plans.findIndex((p) => p.m.mid === a.mid) - plans.findIndex((p) => p.m.mid === b.mid));
    const gathered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new RtcError('timed out creating the answer', 5018)), o.timeoutMs ?? 3000);
      const check = (): void => {
        if (pc.gatheringState() === 'complete' && pc.localDescription()) {
          clearTimeout(timer);
          resolve();
        }
      };
      pc.onGatheringStateChange(() => setImmediate(check));
      pc.onLocalDescription(() => setImmediate(check));
      setImmediate(check);
    });
    const hidden = o.transport.bindAddress !== undefined;
    try {
      const given = shared ? offerWithOneSection(o.offer, hostMid) : o.offer;
      pc.setRemoteDescription(hidden ? withoutCandidates(given) : given, 'offer');
    } catch (err) {
      throw new RtcError(`offer refused: ${(err as Error).message}`, 5018);
    }
    await gathered;
    const local = pc.localDescription();
    if (!local || local.type !== 'answer') throw new RtcError('no answer was created', 5018);
    const sections = shared ? answerWithSections(local.sdp, offer.media.map((m) => m.mid), others) : local.sdp;
    // libdatachannel lists `nack` for every video codec it adds.
    const full = o.nack === false ? withoutFeedback(sections, 'nack') : sections;
    const answer = hidden || o.transport.candidates.length ? replaceCandidates(full, o.transport.candidates) : full;
    const localUfrag = /a=ice-ufrag:(\S+)/.exec(answer)?.[1] ?? '';
    const localPwd = /a=ice-pwd:(\S+)/.exec(answer)?.[1] ?? '';
    return { pc, answer, tracks, localUfrag, localPwd, remoteUfrag: offer.iceUfrag, sharedTrack: shared };
  } catch (err) {
    pc.close();
    throw err;
  }
}

function randomSsrc(): number {
  return (Math.floor(Math.random() * 0xfffffff0) + 1) >>> 0;
}
