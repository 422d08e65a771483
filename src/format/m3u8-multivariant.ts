/**
 * The HLS multivariant playlist of an ABR ladder (RFC 8216bis §4.4.6.2):
 * one #EXT-X-STREAM-INF per variant with BANDWIDTH (required), and the
 * attributes a player needs to choose and switch: AVERAGE-BANDWIDTH,
 * RESOLUTION, CODECS, FRAME-RATE. Pure.
 */

export interface HlsVariant {
  uri: string;
  /** bit/s, the peak segment bitrate. */
  bandwidth: number;
  /** bit/s over the window; omitted when unknown. */
  averageBandwidth?: number;
  width?: number;
  height?: number;
  /** RFC 6381 codec strings (`avc1.64001f`, `mp4a.40.2`). */
  codecs: readonly string[];
  frameRate?: number;
}

export function writeMultivariantPlaylist(variants: readonly HlsVariant[]): string {
  let out = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n';
  for (const v of variants) {
    const attrs = [`BANDWIDTH=${Math.max(1, Math.round(v.bandwidth))}`];
    if (v.averageBandwidth !== undefined) attrs.push(`AVERAGE-BANDWIDTH=${Math.max(1, Math.round(v.averageBandwidth))}`);
    if (v.width && v.height) attrs.push(`RESOLUTION=${v.width}x${v.height}`);
    if (v.codecs.length > 0) attrs.push(`CODECS="${v.codecs.join(',')}"`);
    if (v.frameRate !== undefined && v.frameRate > 0) attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    out += `#EXT-X-STREAM-INF:${attrs.join(',')}\n${v.uri}\n`;
  }
  return out;
}
