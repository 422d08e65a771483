/**
 * FLV container, the part the servers and outputs share: FLV tags to and from
 * MediaFrames, and the stream header. Parsers and tag-body builders are
 * imported from their own modules (flv-tag-body, flv-tag, flv-demuxer); a name
 * joins this list when a second user needs it, not before (knip reports the rest).
 */
export { encodeFlvHeader } from './flv-tag.js';
export { frameFromFlvTag, flvBodyFromFrame, flvTagOf } from './flv-frame.js';
