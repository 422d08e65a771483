/**
 * An offer cut down to one media section, and the answer grown back to
 * all of them. libdatachannel hands a packet to a track by the SSRCs the
 * SDP lists, except when the connection has a single track: then every
 * packet goes to it. A simulcast offer (Chromium's) lists no SSRCs for its
 * layers, so with audio and video libdatachannel would drop the video; the
 * publisher's offer is therefore given to libdatachannel with one section
 * and the other sections are answered here (same ICE and DTLS, BUNDLE), and
 * Sluice tells the packets apart itself (MID/RID extensions, SSRC, payload
 * type).
 */

function splitSections(sdp: string): { session: string[]; sections: string[][] } {
  const session: string[] = [];
  const sections: string[][] = [];
  for (const l of sdp.split(/\r?\n/)) {
    if (l === '') continue;
    if (l.startsWith('m=')) sections.push([l]);
    else if (sections.length) sections[sections.length - 1]!.push(l);
    else session.push(l);
  }
  return { session, sections };
}

const midOf = (section: string[]): string => section.find((l) => l.startsWith('a=mid:'))?.slice(6) ?? '';

/** The offer with only the media section `mid` (and a BUNDLE group of it alone). */
export function offerWithOneSection(sdp: string, mid: string): string {
  const { session, sections } = splitSections(sdp);
  const keep = sections.filter((s) => midOf(s) === mid);
  const head = session.filter((l) => !l.startsWith('a=group:')).concat(`a=group:BUNDLE ${mid}`);
  return [...head, ...keep.flat()].join('\r\n') + '\r\n';
}

/** Lines of a media section that belong to the shared transport (ICE, DTLS role, candidates). */
const TRANSPORT = /^a=(ice-ufrag|ice-pwd|ice-options|setup|fingerprint|candidate|end-of-candidates)(:|$)/;

/**
 * The answer for every mid of `order`: libdatachannel's one section for its
 * mid, and for each other mid the section given in `others` (as generated
 * by libdatachannel's description, without transport lines), which takes
 * the port, connection line and transport lines of libdatachannel's section.
 */
export function answerWithSections(answer: string, order: readonly string[], others: ReadonlyMap<string, string>): string {
  const { session, sections } = splitSections(answer);
  const host = sections[0];
  if (!host) return answer;
  const port = /^m=\S+ (\d+)/.exec(host[0]!)?.[1] ?? '9';
  const conn = host.find((l) => l.startsWith('c=')) ?? 'c=IN IP4 0.0.0.0';
  const transport = host.filter((l) => TRANSPORT.test(l));
  const out = session.filter((l) => !l.startsWith('a=group:')).concat(`a=group:BUNDLE ${order.join(' ')}`);
  for (const mid of order) {
    if (mid === midOf(host)) {
      out.push(...host);
      continue;
    }
    const text = others.get(mid);
    if (!text) continue;
    const lines = text.split(/\r?\n/).filter((l) => l !== '' && !TRANSPORT.test(l));
    for (const l of lines) {
      if (l.startsWith('m=')) out.push(l.replace(/^(m=\S+ )\d+/, `$1${port}`));
      else if (l.startsWith('c=')) out.push(conn);
      else out.push(l);
    }
    out.push(...transport);
  }
  return out.join('\r\n') + '\r\n';
}
