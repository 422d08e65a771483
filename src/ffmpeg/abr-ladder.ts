/**
 * Sluice's ABR ladder (docs/FFMPEG.md): the `transcode` blocks with
 * `abr { enabled on; }` that match a stream make it the source of a ladder
 * whose renditions are their engines' output streams. Read from the config
 * alone, so the transcode wing (which forces the keyframes), the HLS wing
 * (which cuts the segments and writes the multivariant playlist) and the
 * DASH wing (the same cutting, the ladder's MPD) agree without knowing each
 * other.
 */
import type { TranscodeEngineConfig, VhostConfig } from '../config/vhost-config.js';
import { expandOutput, outputStream } from './engine-output.js';

interface AbrStream {
  vhost: string;
  app: string;
  stream: string;
}

interface AbrRendition extends AbrStream {
  engine: TranscodeEngineConfig;
}

export interface AbrLadder {
  source: AbrStream;
  /** The source stream itself is a variant. */
  includeSource: boolean;
  renditions: AbrRendition[];
}

/** The transcode blocks of a stream's scopes (vhost, app, app/stream), in SRS's order. */
function blocksFor(v: VhostConfig, app: string, stream: string): VhostConfig['transcodes'] {
  return ['', app, `${app}/${stream}`].flatMap((scope) => v.transcodes.filter((t) => t.scope === scope && t.enabled));
}

/** The ladder whose source is this stream, or null when no matching transcode block has `abr` on. */
export function abrLadderOf(v: VhostConfig, vhost: string, app: string, stream: string): AbrLadder | null {
  const blocks = blocksFor(v, app, stream).filter((t) => t.abr.enabled);
  if (blocks.length === 0) return null;
  const renditions: AbrRendition[] = [];
  for (const t of blocks) {
    for (const engine of t.engines) {
      if (!engine.enabled || engine.vcodec === 'vn') continue;
      // [port] and [param] do not name the stream; the time variables would make it a moving target (not a ladder).
      const out = outputStream(expandOutput(engine.output, { vhost, port: '1935', app, stream, param: '', engine: engine.name }, new Date(0)));
      if (out && out.app === app) renditions.push({ ...out, engine });
    }
  }
  return { source: { vhost, app, stream }, includeSource: blocks.some((t) => t.abr.source), renditions };
}

/**
 * FFmpeg options that put an engine's keyframes where the source has its
 * own: `-copyts` keeps the source's timestamps (the HLS wing maps each
 * rendition onto the source's timeline with them), `-force_key_frames
 * source` makes a keyframe of every source keyframe (FFmpeg 5.1's `t` of an
 * `expr:` counts from the output's start, not on the source's timeline, so
 * an expression cannot hit a grid). With a lower `vfps` the forced keyframe
 * may come one output frame late. Extra keyframes (scene cuts, `-g`) are
 * harmless: segments are cut only at the first keyframe of a grid slot.
 */
export const ABR_KEYFRAME_PARAMS: readonly { name: string; args: string[] }[] = [
  { name: 'copyts', args: [] },
  { name: 'force_key_frames', args: ['source'] },
];
