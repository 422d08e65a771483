/** FLV container: one import for tag bodies, tags, frames and the streaming demuxer. */
export { FlvError } from './flv-error.js';
export {
  FlvTagType,
  FlvVideoCodecId,
  FlvSoundFormat,
  VideoPacketType,
  AudioPacketType,
  FourCC,
  parseFlvVideoBody,
  parseFlvAudioBody,
  buildLegacyVideoBody,
  buildExVideoBody,
  buildAacBody,
  buildMp3Body,
  buildExAudioBody,
  isOnMetaData,
} from './flv-tag-body.js';
export type { FlvVideoBody, FlvAudioBody } from './flv-tag-body.js';
export {
  FLV_HEADER_SIZE,
  FLV_TAG_HEADER_SIZE,
  FLV_MAX_BODY_SIZE,
  encodeFlvHeader,
  encodeFlvTag,
  writeFlvTagHeader,
} from './flv-tag.js';
export { FLV_TAG, frameFromFlvTag, flvBodyFromFrame, flvTagOf, flvTagTypeOf } from './flv-frame.js';
export { FlvDemuxer } from './flv-demuxer.js';
export type { FlvTag, FlvFileHeader, FlvDemuxerOptions } from './flv-demuxer.js';
