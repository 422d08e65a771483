/**
 * Cache-Control of the live files served from memory, chosen for a CDN in
 * front of the server: a live playlist may be cached for less than half a
 * segment (the edge shields the origin from every player's reload, and a
 * player still sees each new segment in time); a blocking LL-HLS reload is
 * not cached (it answers one moment of the stream); a segment or part never
 * changes while it is listed, so it is immutable for a while longer than
 * the window lists it (not forever: numbering restarts after hls_dispose
 * or a server restart, and the same URL then names other bytes).
 */

export function livePlaylistCacheControl(targetSeconds: number): string {
  return `public, max-age=${Math.max(1, Math.floor(targetSeconds / 2))}`;
}

export const BLOCKING_PLAYLIST_CACHE_CONTROL = 'no-cache';

export function segmentCacheControl(windowSeconds: number): string {
  return `public, max-age=${Math.max(60, Math.round(windowSeconds * 2))}, immutable`;
}
