/**
 * What an offer's media section says about loss repair and congestion
 * feedback, beyond the codecs `parseSdp` reads: the RTX payload type paired
 * with a codec (RFC 4588 §8: `a=fmtp:N apt=P`), the RTX SSRCs of the
 * sender's FID groups (RFC 5576 §4.2), and the header extension IDs
 * (RFC 8285 `a=extmap`), e.g. transport-wide-cc's.
 */
import type { SdpMedia } from './sdp.js';

export interface MediaRepair {
  /** `a=ssrc-group:FID media rtx` pairs: RTX SSRC → media SSRC. */
  rtxToMedia: Map<number, number>;
  /** `a=extmap` URI → ID. */
  extensions: Map<string, number>;
}

const MAX_ENTRIES = 32;

/** Per mid (in offer order), the FID groups and extension IDs of each media section of `sdp`. */
export function parseMediaRepair(sdp: string): Map<string, MediaRepair> {
  const out = new Map<string, MediaRepair>();
  let cur: MediaRepair | null = null;
  let session: MediaRepair = { rtxToMedia: new Map(), extensions: new Map() };
  let mid = '';
  const commit = (): void => {
    if (cur && !out.has(mid)) out.set(mid, cur);
  };
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      commit();
      mid = '';
      cur = { rtxToMedia: new Map(), extensions: new Map(session.extensions) };
      continue;
    }
    const target = cur ?? session;
    if (line.startsWith('a=mid:')) mid = line.slice(6);
    else if (line.startsWith('a=extmap:')) {
      // a=extmap:<id>[/<direction>] <uri> [<attributes>]
      const r = /^a=extmap:(\d+)(?:\/\w+)? (\S+)/.exec(line);
      if (r && target.extensions.size < MAX_ENTRIES) target.extensions.set(r[2]!, Number(r[1]));
    } else if (line.startsWith('a=ssrc-group:FID ')) {
      const [media, rtx] = line.slice(17).split(' ').map(Number);
      if (Number.isInteger(media) && Number.isInteger(rtx) && target.rtxToMedia.size < MAX_ENTRIES) target.rtxToMedia.set(rtx! >>> 0, media! >>> 0);
    }
    if (!cur) session = target;
  }
  commit();
  return out;
}

/** The RTX payload type whose `apt` is `payloadType` in this media section, or 0 when none is offered. */
export function rtxPayloadFor(media: SdpMedia, payloadType: number): number {
  for (const c of media.codecs) {
    if (c.name.toLowerCase() !== 'rtx' || c.clockRate === 0) continue;
    const apt = /(?:^|;)\s*apt=(\d+)/.exec(c.fmtp)?.[1];
    if (apt !== undefined && Number(apt) === payloadType) return c.payloadType;
  }
  return 0;
}

/** The SDP without its `a=rtcp-fb:<pt> <fb>` lines of exactly that feedback (`nack` leaves `nack pli`). */
export function withoutFeedback(sdp: string, fb: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  return sdp
    .split(eol)
    .filter((l) => !(l.startsWith('a=rtcp-fb:') && l.slice(l.indexOf(' ') + 1).trim() === fb))
    .join(eol);
}

/** Whether the codec (by payload type) lists this `a=rtcp-fb` value (e.g. `transport-cc`). */
export function hasFeedback(media: SdpMedia, payloadType: number, fb: string): boolean {
  return media.codecs.find((c) => c.payloadType === payloadType)?.rtcpFb.includes(fb) ?? false;
}
