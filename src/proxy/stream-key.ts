/**
 * The key a stream is routed by: `vhost/app/stream`. The vhost counts only
 * when the client names it (`?vhost=` or `?domain=`): the proxy cannot know
 * which host names the origins map to which vhost, and a player reaching
 * the proxy by another name must still land on the publisher's origin.
 */
import type { StreamRequest } from '../protocol/stream-url.js';

const DEFAULT_VHOST = '__defaultVhost__';

function explicitVhost(param: string): string | null {
  const q = new URLSearchParams(param.startsWith('?') ? param.slice(1) : param);
  const v = q.get('vhost') ?? q.get('domain');
  return v && v !== DEFAULT_VHOST ? v : null;
}

export function streamKeyOf(req: Pick<StreamRequest, 'app' | 'stream' | 'param'>): string {
  return `${explicitVhost(req.param) ?? DEFAULT_VHOST}/${req.app}/${req.stream}`;
}

/** File types the HTTP relay serves: live streams, playlists, segments. */
const STREAM_FILE = /^(.+)\.(flv|ts|m3u8|mpd|m4s|mp4|aac|mp3)$/;

/**
 * The keys an HTTP path may belong to, most specific first: `/live/s.flv`
 * is `live/s`; a segment `/live/s-12.ts` is `live/s-12` (an HTTP-TS stream
 * of that name) or `live/s` (a segment of stream s). The relay takes the
 * first key that is pinned, so segments follow their playlist's origin
 * (DASH's `live/s/video-3.m4s` is `live/s` too).
 * Null when the path is not a stream file.
 */
export function httpStreamKeys(pathname: string, search: string): string[] | null {
  const parts = pathname.split('/').filter((p) => p !== '');
  if (parts.length < 2) return null;
  const m = STREAM_FILE.exec(parts[parts.length - 1]!);
  if (!m) return null;
  let name = m[1]!;
  const app = parts.slice(0, -1).join('/');
  const vhost = explicitVhost(search) ?? DEFAULT_VHOST;
  const keys = [`${vhost}/${app}/${name}`];
  // Segment names end in `-seq` (and DASH's in `-track-seq`): at most a few suffixes.
  for (let i = 0; i < 3; i++) {
    const dash = name.lastIndexOf('-');
    if (dash <= 0) break;
    name = name.slice(0, dash);
    keys.push(`${vhost}/${app}/${name}`);
  }
  // DASH keeps a stream's segments in a folder of its name: `/live/cam/video-12.m4s` is `live/cam`.
  if (parts.length >= 3 && (m[2] === 'm4s' || m[2] === 'mp4')) keys.push(`${vhost}/${parts.slice(0, -2).join('/')}/${parts[parts.length - 2]}`);
  return keys;
}
