/**
 * SRS's reading of an SRT stream id (SRS-CONTRACTS §1.7): the access-control
 * form `#!::r=app/stream,m=publish,k=v`, its legacy `h=` forms, and plain
 * names, which play unless `srt_server.default_mode` says publish. Keys other than r, h and m become the request's
 * param as `k1=v1&k2=v2` (no leading `?`).
 */
type SrtMode = 'publish' | 'play';

export interface SrtStreamId {
  mode: SrtMode;
  /** The vhost named by `h=` (empty when none). */
  vhost: string;
  app: string;
  stream: string;
  param: string;
}

const PREFIX = '#!::';

/** `srt_server` settings for ids that do not say everything (SRS 7 `default_streamid`, `default_mode`). */
export interface SrtIdDefaults {
  /** Used for an empty stream id. */
  streamId: string;
  /** The mode of a plain name (no `#!::`). */
  plainMode: SrtMode;
}

const SRS_DEFAULTS: SrtIdDefaults = { streamId: `${PREFIX}r=live/livestream,m=publish`, plainMode: 'play' };

/** Parses a stream id; null when SRS refuses it (an `m` other than publish or request). */
export function parseSrtStreamId(id: string, defaultApp: string, defaults: SrtIdDefaults = SRS_DEFAULTS): SrtStreamId | null {
  if (id === '') id = defaults.streamId;
  if (!id.startsWith(PREFIX)) return { mode: defaults.plainMode, vhost: '', ...splitPath(id, defaultApp), param: '' };
  let mode: SrtMode = 'play';
  let vhost = '';
  let path = '';
  const params: string[] = [];
  for (const item of id.slice(PREFIX.length).replace(/\?/g, ',').split(/[,&;]/)) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    if (key === 'm') {
      if (value === 'publish') mode = 'publish';
      else if (value === 'request') mode = 'play';
      else return null;
    } else if (key === 'r') path = value;
    else if (key === 'h') {
      const parts = value.split('/');
      if (parts.length === 1) {
        vhost = value;
        params.push(`vhost=${value}`);
      } else if (parts.length === 2) path = value;
      else {
        vhost = parts[0]!;
        path = parts.slice(1).join('/');
      }
    } else params.push(eq < 0 ? key : `${key}=${value}`);
  }
  return { mode, vhost, ...splitPath(path, defaultApp), param: params.join('&') };
}

/** `app/stream` (the last segment is the stream); a bare name takes the default app. */
function splitPath(path: string, defaultApp: string): { app: string; stream: string } {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return { app: defaultApp, stream: path };
  return { app: path.slice(0, slash), stream: path.slice(slash + 1) };
}
