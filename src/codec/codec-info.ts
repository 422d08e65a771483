/**
 * What the stats API and the muxers need to know about a stream's codecs,
 * in SRS's spellings (see SRS-CONTRACTS "video"/"audio" objects).
 */
import type { AudioCodec, VideoCodec } from './media-frame.js';

export interface VideoInfo {
  codec: VideoCodec;
  /** e.g. `High`, `Main10`; `Other` when unknown. */
  profile: string;
  /** e.g. `3.1`; `Other` when unknown. */
  level: string;
  /** Display size after cropping; 0 when unknown. */
  width: number;
  height: number;
}

export interface AudioInfo {
  codec: AudioCodec;
  /** AAC: `Main`, `LC`, `SSR`, `HE`, `HEv2`; others `Other`. */
  profile: string;
  /** Hz; 0 when unknown. */
  sampleRate: number;
  /** 0 when unknown. */
  channels: number;
}
