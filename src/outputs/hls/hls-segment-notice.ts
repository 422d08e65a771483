/**
 * What the HLS writer announces for every segment it writes (and keeps),
 * after its file and the playlist are on disk: the fields SRS's on_hls hook
 * body needs (SRS-CONTRACTS §3.2). The composition root passes the notices
 * on to the HTTP callbacks.
 */

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
