/**
 * Which track and simulcast layer a publisher's packet belongs to. Without
 * simulcast each libdatachannel track delivers its own section's packets;
 * with a shared track (rtc-peer.ts) or simulcast layers the session reads
 * it from the packet: the MID header extension, else the SSRCs the offer
 * lists, else the payload type; then the RID (or repaired RID) extension
 * for the layer. Browsers put MID and RID only on a stream's first packets
 * (until our receiver report names the SSRC), so the answer is kept per SSRC.
 */
import type { RtpHeader } from '../../protocol/rtp/rtp-packet.js';
import { rtpExtensionText } from '../../protocol/rtp/rtp-extensions.js';
import type { NegotiatedTrack } from './rtc-peer.js';
import type { MediaKind } from './rtc-stream.js';

export interface PacketRoute {
  track: NegotiatedTrack;
  kind: MediaKind;
  /** Simulcast layer index (0 without simulcast). */
  layer: number;
  /** A repair stream (RTX) of the layer, by its repaired-RID. */
  repair: boolean;
}

/** SSRCs remembered per publisher: a few layers, their RTX and audio. */
const MAX_SSRCS = 16;

export class PublishRouter {
  private readonly bySsrc = new Map<number, PacketRoute>();
  private readonly midExt: number;

  constructor(
    private readonly tracks: readonly NegotiatedTrack[],
    private readonly shared: boolean,
  ) {
    this.midExt = tracks.find((t) => t.routing?.midExt)?.routing?.midExt ?? 0;
  }

  /** The video track's layers (RIDs), empty without simulcast. */
  get layers(): string[] {
    return this.tracks.find((t) => t.kind === 'video')?.routing?.rids ?? [];
  }

  /** The route of a packet that arrived on the track of `kind` (null: on the shared track); null when it cannot be placed yet. */
  route(kind: MediaKind | null, pkt: Buffer, h: RtpHeader): PacketRoute | null {
    const known = this.bySsrc.get(h.ssrc);
    if (known) return known;
    const r = this.place(kind, pkt, h);
    if (r && this.bySsrc.size < MAX_SSRCS) this.bySsrc.set(h.ssrc, r);
    return r;
  }

  private place(kind: MediaKind | null, pkt: Buffer, h: RtpHeader): PacketRoute | null {
    let t: NegotiatedTrack | undefined;
    if (!this.shared && kind) t = this.tracks.find((x) => x.kind === kind);
    else {
      const mid = this.midExt ? rtpExtensionText(pkt, this.midExt) : null;
      t = (mid !== null ? this.tracks.find((x) => x.mid === mid) : undefined) ?? this.tracks.find((x) => x.remoteSsrcs.includes(h.ssrc)) ?? this.tracks.find((x) => x.payloadType === h.payloadType);
    }
    if (!t) return null;
    const rids = t.routing?.rids ?? [];
    if (rids.length < 2) return { track: t, kind: t.kind, layer: 0, repair: false };
    const rid = rtpExtensionText(pkt, t.routing!.ridExt);
    if (rid !== null) {
      const i = rids.indexOf(rid);
      return i >= 0 ? { track: t, kind: t.kind, layer: i, repair: false } : null;
    }
    const rrid = t.routing!.rridExt ? rtpExtensionText(pkt, t.routing!.rridExt) : null;
    if (rrid !== null) {
      const i = rids.indexOf(rrid);
      return i >= 0 ? { track: t, kind: t.kind, layer: i, repair: true } : null;
    }
    return null;
  }
}
