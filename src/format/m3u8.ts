/**
 * HLS playlist writers (RFC 8216 and the low-latency additions of
 * RFC 8216bis): the classic live media playlist SRS writes, the one-line
 * master playlist SRS answers for `hls_ctx`, and the LL-HLS playlist with
 * partial segments, preload hints and server control. Pure functions.
 */

interface M3u8Segment {
  uri: string;
  /** Seconds. */
  duration: number;
  /** Opened after a new sequence header (e.g. a republish). */
  discontinuity: boolean;
  /** Wall clock (ms since epoch) of the segment's first frame at ingest: #EXT-X-PROGRAM-DATE-TIME. */
  programDateTime?: number;
  /** AES-128 encryption of this segment (hls_keys): the key's URI and IV (32 hex digits). */
  key?: { uri: string; iv: string };
}

export interface MediaPlaylist {
  mediaSequence: number;
  /** Whole seconds (#EXT-X-TARGETDURATION). */
  targetDuration: number;
  segments: readonly M3u8Segment[];
  version?: number;
  discontinuitySequence?: number;
  endList?: boolean;
}

/** SRS's TARGETDURATION: ceil(max(longest segment, fragment × td_ratio)), computed in ms. */
export function hlsTargetDuration(segmentSeconds: readonly number[], fragment: number, tdRatio: number): number {
  let maxMs = Math.round(fragment * tdRatio * 1000);
  for (const d of segmentSeconds) maxMs = Math.max(maxMs, Math.round(d * 1000));
  return Math.max(1, Math.ceil(maxMs / 1000));
}

export function writeMediaPlaylist(p: MediaPlaylist): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${p.version ?? 3}`, `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`];
  if (p.discontinuitySequence) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  lines.push(`#EXT-X-TARGETDURATION:${p.targetDuration}`);
  let key: M3u8Segment['key'] = undefined;
  for (const s of p.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    // A key applies until the next #EXT-X-KEY: written when it changes (SRS: every hls_fragments_per_key
    // segments) and on the first segment, so that a playlist whose window starts mid-key still decrypts.
    if (s.key && (s.key.uri !== key?.uri || s.key.iv !== key.iv)) lines.push(`#EXT-X-KEY:METHOD=AES-128,URI="${s.key.uri}",IV=0x${s.key.iv}`);
    else if (!s.key && key) lines.push('#EXT-X-KEY:METHOD=NONE');
    key = s.key;
    if (s.programDateTime) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
    lines.push(`#EXTINF:${s.duration.toFixed(3)}, no desc`, s.uri);
  }
  if (p.endList) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** The master playlist SRS answers to an m3u8 request without hls_ctx: one variant, the same path with the session id. */
export function writeSessionMaster(variantUri: string): string {
  return `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n${variantUri}\n`;
}

export interface LlPart {
  uri: string;
  /** Seconds. */
  duration: number;
  independent: boolean;
}

interface LlSegment extends M3u8Segment {
  /** The segment's parts, listed while the segment is recent; empty for older ones. */
  parts: readonly LlPart[];
}

export interface LowLatencyPlaylist {
  mediaSequence: number;
  targetDuration: number;
  /** Seconds (#EXT-X-PART-INF PART-TARGET). */
  partTarget: number;
  mapUri: string;
  /** Complete segments, oldest first. */
  segments: readonly LlSegment[];
  /** Parts of the segment in progress. */
  pendingParts: readonly LlPart[];
  /** URI of the next part (#EXT-X-PRELOAD-HINT), or null. */
  preloadHint: string | null;
  discontinuitySequence?: number;
  /** The segment in progress starts after a discontinuity. */
  pendingDiscontinuity?: boolean;
  pendingProgramDateTime?: number;
}

function partLine(p: LlPart): string {
  return `#EXT-X-PART:DURATION=${p.duration.toFixed(5)},URI="${p.uri}"${p.independent ? ',INDEPENDENT=YES' : ''}`;
}

export function writeLowLatencyPlaylist(p: LowLatencyPlaylist): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${(p.partTarget * 3).toFixed(3)}`,
    `#EXT-X-PART-INF:PART-TARGET=${p.partTarget.toFixed(5)}`,
    `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`,
  ];
  if (p.discontinuitySequence) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  lines.push(`#EXT-X-MAP:URI="${p.mapUri}"`);
  for (const s of p.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (s.programDateTime) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
    for (const part of s.parts) lines.push(partLine(part));
    lines.push(`#EXTINF:${s.duration.toFixed(5)},`, s.uri);
  }
  if (p.pendingDiscontinuity && p.pendingParts.length > 0) lines.push('#EXT-X-DISCONTINUITY');
  if (p.pendingProgramDateTime && p.pendingParts.length > 0) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(p.pendingProgramDateTime).toISOString()}`);
  for (const part of p.pendingParts) lines.push(partLine(part));
  if (p.preloadHint) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${p.preloadHint}"`);
  return `${lines.join('\n')}\n`;
}

/**
 * Adds `key=value` to every media URI line of a playlist (SRS's hls_ts_ctx
 * rewrite of `.ts` entries), merging with an existing query.
 */
export function addQueryToSegmentUris(playlist: string, ext: string, key: string, value: string): string {
  const enc = `${key}=${encodeURIComponent(value)}`;
  return playlist
    .split('\n')
    .map((line) => {
      if (line === '' || line.startsWith('#')) return line;
      const q = line.indexOf('?');
      const path = q >= 0 ? line.slice(0, q) : line;
      if (!path.endsWith(ext)) return line;
      return q >= 0 ? `${line}&${enc}` : `${line}?${enc}`;
    })
    .join('\n');
}

/**
 * The request paths of a media playlist's segment URIs ending in `ext`,
 * resolved against the playlist's own path (relative, absolute-path and
 * full URIs alike), percent-decoded as a request path would be.
 */
export function segmentPaths(playlist: string, playlistPath: string, ext: string): string[] {
  const base = new URL(playlistPath, 'http://playlist.invalid');
  const out: string[] = [];
  for (const line of playlist.split('\n')) {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) continue;
    let u: URL;
    try {
      u = new URL(l, base);
    } catch {
      continue;
    }
    if (!u.pathname.endsWith(ext)) continue;
    try {
      out.push(decodeURIComponent(u.pathname));
    } catch {
      // an undecodable URI can never be requested as a safe path
    }
  }
  return out;
}

/** Tags of an LL-HLS playlist whose `URI="..."` names media (not other playlists, not keys). */
const LL_MEDIA_TAGS = ['#EXT-X-MAP:', '#EXT-X-PART:', '#EXT-X-PRELOAD-HINT:'];
const URI_ATTR = /URI="([^"]*)"/;

/** Calls `f` on every media URI of a playlist (segment lines, MAP, PART, PRELOAD-HINT); returns the lines with its results. */
function mapMediaUris(playlist: string, f: (uri: string) => string): string {
  return playlist
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      if (!line.startsWith('#')) return line.endsWith('.m3u8') ? line : f(line);
      if (!LL_MEDIA_TAGS.some((t) => line.startsWith(t))) return line;
      return line.replace(URI_ATTR, (_m, uri: string) => `URI="${f(uri)}"`);
    })
    .join('\n');
}

/** Adds `key=value` to every media URI of an (LL-)HLS playlist: segments, init section, parts, preload hints. */
export function addQueryToMediaUris(playlist: string, key: string, value: string): string {
  const enc = `${key}=${encodeURIComponent(value)}`;
  return mapMediaUris(playlist, (uri) => (uri.includes('?') ? `${uri}&${enc}` : `${uri}?${enc}`));
}

/** The request paths of every media URI of an (LL-)HLS playlist, resolved against its path (see segmentPaths). */
export function mediaPaths(playlist: string, playlistPath: string): string[] {
  const base = new URL(playlistPath, 'http://playlist.invalid');
  const out: string[] = [];
  mapMediaUris(playlist, (uri) => {
    try {
      out.push(decodeURIComponent(new URL(uri, base).pathname));
    } catch {
      // an unparsable URI can never be requested as a safe path
    }
    return uri;
  });
  return out;
}
