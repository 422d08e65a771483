/**
 * Simulcast in an offer (RFC 8853 `a=simulcast`, RFC 8851 `a=rid`) and the
 * header extensions that name a packet's media section and layer (RFC 8843
 * MID, RFC 8852 RID / repaired RID): what a receiver must read from a
 * publisher's offer, and the lines it answers with to accept the layers.
 */

export const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';
export const RID_URI = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
export const RRID_URI = 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id';

/** Layers accepted per media section: Chromium and Firefox send at most 3 or 4. */
const MAX_LAYERS = 4;
const RID_RE = /^[A-Za-z0-9_-]{1,16}$/;

export interface MediaRouting {
  mid: string;
  /** The layers the sender offers, in its `a=simulcast:send` order; empty without simulcast. */
  rids: string[];
  /** Extension IDs from the section's `a=extmap` (0 = not offered). */
  midExt: number;
  ridExt: number;
  rridExt: number;
}

/** Per media section of `sdp` (in order): its mid, offered send layers and routing extension IDs. */
export function parseMediaRouting(sdp: string): MediaRouting[] {
  const out: MediaRouting[] = [];
  let cur: (MediaRouting & { declared: Set<string>; order: string[] }) | null = null;
  const session = { midExt: 0, ridExt: 0, rridExt: 0 };
  const finish = (): void => {
    if (!cur) return;
    cur.rids = cur.order.filter((r) => cur!.declared.has(r)).slice(0, MAX_LAYERS);
    out.push({ mid: cur.mid, rids: cur.rids, midExt: cur.midExt, ridExt: cur.ridExt, rridExt: cur.rridExt });
  };
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      finish();
      if (out.length >= 16) return out;
      cur = { mid: '', rids: [], ...session, declared: new Set(), order: [] };
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const ext = /^a=extmap:(\d+)(?:\/\w+)? (\S+)/.exec(line);
    if (ext) {
      const id = Number(ext[1]);
      const target = cur ?? session;
      if (id < 1 || id > 255) continue;
      if (ext[2] === MID_URI) target.midExt = id;
      else if (ext[2] === RID_URI) target.ridExt = id;
      else if (ext[2] === RRID_URI) target.rridExt = id;
      continue;
    }
    if (!cur) continue;
    if (line.startsWith('a=mid:')) cur.mid = line.slice(6);
    else if (line.startsWith('a=rid:')) {
      // a=rid:<id> send [params]
      const [id, dir] = line.slice(6).split(' ');
      if (dir === 'send' && id && RID_RE.test(id) && cur.declared.size < 16) cur.declared.add(id);
    } else if (line.startsWith('a=simulcast:')) {
      // a=simulcast:send h;m;l  (a stream may list alternatives "a,b"; "~" marks one paused)
      const parts = line.slice(12).split(' ');
      const i = parts.indexOf('send');
      if (i < 0 || !parts[i + 1]) continue;
      cur.order = parts[i + 1]!
        .split(';')
        .map((s) => s.split(',')[0]!.replace(/^~/, ''))
        .filter((r) => RID_RE.test(r));
    }
  }
  finish();
  return out;
}

/** The answer's lines accepting a section's layers (receive side): the extensions, `a=rid:X recv` and `a=simulcast:recv`. */
export function simulcastAnswerLines(r: MediaRouting): string[] {
  if (r.rids.length < 2 || r.ridExt === 0) return [];
  const lines: string[] = [];
  if (r.midExt) lines.push(`a=extmap:${r.midExt} ${MID_URI}`);
  lines.push(`a=extmap:${r.ridExt} ${RID_URI}`);
  if (r.rridExt) lines.push(`a=extmap:${r.rridExt} ${RRID_URI}`);
  for (const rid of r.rids) lines.push(`a=rid:${rid} recv`);
  lines.push(`a=simulcast:recv ${r.rids.join(';')}`);
  return lines;
}
