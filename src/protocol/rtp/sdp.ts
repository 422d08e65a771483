/**
 * The parts of an SDP offer (RFC 8866, RFC 8829 for WebRTC) that a server
 * needs to answer it: media sections with mid, direction and codecs, the
 * BUNDLE group and rtcp-mux. Also the answer edits a server makes (its own
 * ICE candidates).
 */
import { RtpError } from './rtp-error.js';

export const MAX_SDP_BYTES = 64 * 1024;
const MAX_MEDIA = 16;

type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface SdpCodec {
  payloadType: number;
  /** As in rtpmap, e.g. `H264`, `opus`. */
  name: string;
  clockRate: number;
  channels: number;
  fmtp: string;
  rtcpFb: string[];
}

export interface SdpMedia {
  kind: string;
  mid: string;
  direction: SdpDirection;
  rtcpMux: boolean;
  codecs: SdpCodec[];
  ssrcs: number[];
}

export interface SdpSession {
  media: SdpMedia[];
  bundle: string[];
  iceUfrag: string;
}

export function parseSdp(text: string): SdpSession {
  if (text.length > MAX_SDP_BYTES) throw new RtpError(`SDP: ${text.length} bytes exceeds ${MAX_SDP_BYTES}`);
  if (!text.startsWith('v=0')) throw new RtpError('SDP: does not start with v=0');
  const session: SdpSession = { media: [], bundle: [], iceUfrag: '' };
  let m: SdpMedia | null = null;
  let sessionDirection: SdpDirection = 'sendrecv';
  const codecOf = (pt: number): SdpCodec | undefined => m?.codecs.find((c) => c.payloadType === pt);
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== '=') continue;
    const v = line.slice(2);
    if (line[0] === 'm') {
      if (session.media.length >= MAX_MEDIA) throw new RtpError(`SDP: more than ${MAX_MEDIA} media sections`);
      const parts = v.split(' ');
      if (parts.length < 3) throw new RtpError(`SDP: bad m= line "${line}"`);
      m = { kind: parts[0]!, mid: '', direction: sessionDirection, rtcpMux: false, codecs: [], ssrcs: [] };
      for (const f of parts.slice(3)) {
        const pt = Number(f);
        if (Number.isInteger(pt) && pt >= 0 && pt < 128) m.codecs.push({ payloadType: pt, name: '', clockRate: 0, channels: 1, fmtp: '', rtcpFb: [] });
      }
      session.media.push(m);
      continue;
    }
    if (line[0] !== 'a') continue;
    const colon = v.indexOf(':');
    const attr = colon >= 0 ? v.slice(0, colon) : v;
    const value = colon >= 0 ? v.slice(colon + 1) : '';
    switch (attr) {
      case 'group':
        if (value.startsWith('BUNDLE')) session.bundle = value.split(' ').slice(1).filter(Boolean);
        break;
      case 'ice-ufrag':
        if (!session.iceUfrag) session.iceUfrag = value;
        break;
      case 'sendrecv':
      case 'sendonly':
      case 'recvonly':
      case 'inactive':
        if (m) m.direction = attr;
        else sessionDirection = attr;
        break;
      case 'mid':
        if (m) m.mid = value;
        break;
      case 'rtcp-mux':
        if (m) m.rtcpMux = true;
        break;
      case 'rtpmap': {
        const r = /^(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(value);
        const c = r ? codecOf(Number(r[1])) : undefined;
        if (r && c) {
          c.name = r[2]!;
          c.clockRate = Number(r[3]);
          c.channels = r[4] ? Number(r[4]) : 1;
        }
        break;
      }
      case 'fmtp': {
        const r = /^(\d+) (.*)$/.exec(value);
        const c = r ? codecOf(Number(r[1])) : undefined;
        if (r && c) c.fmtp = r[2]!;
        break;
      }
      case 'rtcp-fb': {
        const r = /^(\d+|\*) (.*)$/.exec(value);
        if (r && m) {
          for (const c of m.codecs) if (r[1] === '*' || c.payloadType === Number(r[1])) if (c.rtcpFb.length < 16) c.rtcpFb.push(r[2]!);
        }
        break;
      }
      case 'ssrc': {
        const s = Number(value.split(' ')[0]);
        if (m && Number.isInteger(s) && !m.ssrcs.includes(s) && m.ssrcs.length < 16) m.ssrcs.push(s);
        break;
      }
    }
  }
  return session;
}

function fmtpParams(fmtp: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of fmtp.split(';')) {
    const eq = kv.indexOf('=');
    if (eq > 0) out.set(kv.slice(0, eq).trim().toLowerCase(), kv.slice(eq + 1).trim());
  }
  return out;
}

/**
 * The H.264 payload type to use: packetization-mode 1 only; the profile
 * closest to `preferProfile` (hex profile_idc, e.g. `64` for High), else
 * constrained baseline 42e01f, else the first offered.
 */
export function chooseH264(media: SdpMedia, preferProfile = '42'): SdpCodec | null {
  const h264 = media.codecs.filter((c) => c.name.toUpperCase() === 'H264' && fmtpParams(c.fmtp).get('packetization-mode') === '1');
  const plid = (c: SdpCodec): string => (fmtpParams(c.fmtp).get('profile-level-id') ?? '').toLowerCase();
  return (
    (preferProfile === '42' ? h264.find((c) => plid(c) === '42e01f') : undefined) ??
    h264.find((c) => plid(c).startsWith(preferProfile.toLowerCase())) ??
    h264.find((c) => plid(c) === '42e01f') ??
    h264.find((c) => plid(c).startsWith('42')) ??
    h264[0] ??
    null
  );
}

/** The first offered codec with this name (case-insensitive), e.g. `opus`, `VP8`. */
export function chooseCodec(media: SdpMedia, name: string): SdpCodec | null {
  return media.codecs.find((c) => c.name.toLowerCase() === name.toLowerCase()) ?? null;
}

/** Whether an SDP line is an ICE candidate (or the end-of-candidates marker). */
function isCandidateLine(l: string): boolean {
  return l.startsWith('a=candidate:') || l === 'a=end-of-candidates';
}

/**
 * The offer without its ICE candidates, for an ICE agent behind a relay: it
 * must learn the client only from the checks the relay forwards, never send
 * its own checks to the client's addresses (the client would see a new,
 * peer-reflexive server address and might nominate it, bypassing the relay).
 */
export function withoutCandidates(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((l) => l !== '' && !isCandidateLine(l))
    .join('\r\n') + '\r\n';
}

/** `ip` and `port` of a candidate line (with or without `a=`), or null. */
function candidateAddress(line: string): { ip: string; port: number; transport: string } | null {
  const f = line.replace(/^a=/, '').split(' ');
  if (f.length < 6 || !f[0]!.startsWith('candidate:')) return null;
  const port = Number(f[5]);
  return Number.isInteger(port) ? { ip: f[4]!, port, transport: f[2]!.toLowerCase() } : null;
}

/**
 * Replaces the ICE candidates of an answer by ours (the same set in every
 * media section), and the default destination (the m= port and c= address,
 * RFC 8839 §4.2.1.2) by our first UDP candidate: the ICE agent fills them
 * with its own socket, which behind a relay is an internal port no client
 * may see. Without a UDP candidate they become the "no candidate" 9 / 0.0.0.0.
 */
export function replaceCandidates(sdp: string, candidates: readonly string[]): string {
  const udp = candidates.map(candidateAddress).find((c) => c?.transport === 'udp') ?? null;
  const port = udp ? udp.port : 9;
  const conn = udp && udp.ip.includes(':') ? `c=IN IP6 ${udp.ip}` : `c=IN IP4 ${udp ? udp.ip : '0.0.0.0'}`;
  const lines = sdp.split(/\r?\n/).filter((l) => l !== '' && !isCandidateLine(l));
  const out: string[] = [];
  let mCount = 0;
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    if (l.startsWith('m=')) {
      mCount++;
      l = l.replace(/^(m=\S+ )\d+/, `$1${port}`);
    } else if (mCount > 0 && l.startsWith('c=')) l = conn;
    out.push(l);
    const nextIsM = i + 1 >= lines.length || lines[i + 1]!.startsWith('m=');
    if (mCount > 0 && nextIsM) {
      for (const c of candidates) out.push(`a=${c}`);
      out.push('a=end-of-candidates');
    }
  }
  return out.join('\r\n') + '\r\n';
}
