/**
 * The `on_hls` notification point: every HLS segment that is written (and
 * kept) is announced here, after its file and the playlist are on disk. The
 * HTTP callbacks feature subscribes with `onHlsSegment(ctx, listener)`; the
 * fields are what SRS's on_hls hook body needs (SRS-CONTRACTS §3.2).
 */
import type { ServerContext } from '../../core/server-context.js';

export interface HlsSegmentNotice {
  vhost: string;
  app: string;
  stream: string;
  /** The publisher's query with its leading `?`, or ''. */
  param: string;
  /** The publisher's tcUrl, or '' when unknown. */
  tcUrl: string;
  /** `vhost/app/stream` (SRS's stream_url). */
  streamUrl: string;
  /** Segment file as configured (relative paths stay relative, e.g. `./objs/nginx/html/live/livestream-3.ts`). */
  file: string;
  /** The server's working directory. */
  cwd: string;
  /** Segment URI as a player resolves it: as written in the m3u8, prefixed with the m3u8 directory when relative. */
  url: string;
  /** Playlist file as configured. */
  m3u8: string;
  /** `hls_m3u8_file` after substitution (`live/livestream.m3u8`). */
  m3u8Url: string;
  /** Seconds. */
  duration: number;
  /** Media sequence number of the segment. */
  seq: number;
}

export type HlsSegmentListener = (notice: HlsSegmentNotice) => void;

const listeners = new WeakMap<ServerContext, Set<HlsSegmentListener>>();

/** Subscribes to written HLS segments of a server. Returns the unsubscribe function. */
export function onHlsSegment(ctx: ServerContext, listener: HlsSegmentListener): () => void {
  let set = listeners.get(ctx);
  if (!set) listeners.set(ctx, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/** Called by the HLS writer; a listener that throws is logged, never breaks the stream. */
export function emitHlsSegment(ctx: ServerContext, notice: HlsSegmentNotice): void {
  const set = listeners.get(ctx);
  if (!set) return;
  for (const l of set) {
    try {
      l(notice);
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message, stream: notice.streamUrl }, 'on_hls listener failed');
    }
  }
}
