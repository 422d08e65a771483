/**
 * One entry point from a sequence header (or first audio frame) to the
 * VideoInfo/AudioInfo the stats API reports, whatever the codec.
 */
import { describeAacConfig } from './aac.js';
import { describeAv1Config } from './av1.js';
import type { AudioInfo, VideoInfo } from './codec-info.js';
import { describeAvcConfig } from './h264.js';
import { describeHevcConfig } from './hevc.js';
import type { AudioCodec, VideoCodec } from './media-frame.js';
import { describeMpegAudio } from './mp3.js';
import { describeOpusHead } from './opus.js';

/**
 * Describes a video stream from its decoder configuration record (the payload
 * of a header frame). Codecs without a parser give `Other` profile/level, 0 size.
 * Throws CodecError for a malformed H.264/HEVC/AV1 record.
 */
export function describeVideoConfig(codec: VideoCodec, config: Buffer): VideoInfo {
  switch (codec) {
    case 'H264':
      return describeAvcConfig(config);
    case 'HEVC':
      return describeHevcConfig(config);
    case 'AV1':
      return describeAv1Config(config);
    default:
      return { codec, profile: 'Other', level: 'Other', width: 0, height: 0 };
  }
}

/**
 * Describes an audio stream: AAC from its AudioSpecificConfig, Opus from its
 * OpusHead, MP3 from any frame header. Returns zeros where nothing is known;
 * throws CodecError on malformed input.
 */
export function describeAudio(codec: AudioCodec, payload: Buffer): AudioInfo {
  switch (codec) {
    case 'AAC':
      return describeAacConfig(payload);
    case 'Opus':
      return describeOpusHead(payload);
    case 'MP3':
      return describeMpegAudio(payload);
    default:
      return { codec, profile: 'Other', sampleRate: 0, channels: 0 };
  }
}
