/**
 * One variant of an ABR ladder's multivariant playlist, from what the
 * server has of that stream: BANDWIDTH (the peak segment bitrate of the
 * window, TS overhead included) and AVERAGE-BANDWIDTH (the window's mean)
 * once segments exist, else the engine's configured bitrates plus 10 %;
 * RESOLUTION and CODECS (`avc1.PPCCLL` from the AVC configuration record,
 * `mp4a.40.<object type>`) from the sequence headers; FRAME-RATE from the
 * video frames the window holds. A stream with no segment yet is not listed
 * (a player would get a 404 for it).
 */
import type { LiveSource } from '../../live/live-source.js';
import type { TranscodeEngineConfig } from '../../config/vhost-config.js';
import type { HlsVariant } from '../../format/m3u8-multivariant.js';
import { parseAvcDecoderConfig, parseH264Sps } from '../../codec/h264.js';
import { parseAudioSpecificConfig } from '../../codec/aac.js';
import { CodecError } from '../../codec/codec-error.js';
import type { HlsTsStream } from './hls-ts-stream.js';

/** Configured bitrates are the codec's; TS packets and PES headers add about this much. */
const CONFIGURED_OVERHEAD = 1.1;

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function videoOf(source: LiveSource | undefined): { codec: string | null; width?: number; height?: number } {
  const h = source?.videoHeader;
  if (!h || h.codec !== 'H264') return { codec: null };
  try {
    const c = parseAvcDecoderConfig(h.payload);
    const sps = c.sps[0] ? parseH264Sps(c.sps[0]) : null;
    return { codec: `avc1.${hex2(c.profileIdc)}${hex2(c.profileCompatibility)}${hex2(c.levelIdc)}`, width: sps?.width, height: sps?.height };
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    return { codec: null };
  }
}

function audioCodecOf(source: LiveSource | undefined): string | null {
  const h = source?.audioHeader;
  if (!h) return null;
  if (h.codec === 'MP3') return 'mp4a.40.34';
  if (h.codec !== 'AAC') return null;
  try {
    return `mp4a.40.${parseAudioSpecificConfig(h.payload).objectType}`;
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    return null;
  }
}

export function abrVariant(uri: string, hls: HlsTsStream, source: LiveSource | undefined, engine: TranscodeEngineConfig | null): HlsVariant | null {
  const w = hls.window;
  if (w.length === 0 || hls.playlist === null) return null;
  let bits = 0;
  let seconds = 0;
  let frames = 0;
  let peak = 0;
  for (const s of w) {
    bits += s.bytes * 8;
    seconds += s.duration;
    frames += s.videoFrames;
    if (s.duration > 0) peak = Math.max(peak, (s.bytes * 8) / s.duration);
  }
  const configured = engine ? (engine.vbitrate + (engine.acodec === 'an' ? 0 : engine.abitrate)) * 1000 * CONFIGURED_OVERHEAD : 0;
  const v = videoOf(source);
  const a = audioCodecOf(source);
  // CODECS must name every codec of the variant: with an unknown video codec (HEVC here) it is left out.
  const codecs = v.codec === null && source?.videoHeader ? [] : [v.codec, a].filter((c): c is string => c !== null);
  return {
    uri,
    bandwidth: peak > 0 ? peak : configured,
    averageBandwidth: seconds > 0 ? bits / seconds : undefined,
    width: v.width,
    height: v.height,
    codecs,
    frameRate: seconds > 0 && frames > 0 ? frames / seconds : undefined,
  };
}
