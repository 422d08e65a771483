/** FLV file header and tag framing (FLV spec 10, E.2 / E.3). */
import { FlvError } from './flv-error.js';

export const FLV_HEADER_SIZE = 9;
export const FLV_TAG_HEADER_SIZE = 11;
/** The 24-bit DataSize field's ceiling. */
const FLV_MAX_BODY_SIZE = 0xffffff;

/** 9-byte FLV header followed by PreviousTagSize0 (13 bytes in all). */
export function encodeFlvHeader(hasAudio: boolean, hasVideo: boolean): Buffer {
  const out = Buffer.alloc(13);
  out[0] = 0x46; // F
  out[1] = 0x4c; // L
  out[2] = 0x56; // V
  out[3] = 1;
  out[4] = (hasAudio ? 4 : 0) | (hasVideo ? 1 : 0);
  out.writeUInt32BE(FLV_HEADER_SIZE, 5);
  return out;
}

/**
 * Writes the 11-byte tag header into out at offset. The timestamp is the
 * low 24 bits plus the extended (high) byte; negative times are written as 0.
 */
function writeFlvTagHeader(out: Buffer, offset: number, tagType: number, timestamp: number, bodySize: number): void {
  if (bodySize < 0 || bodySize > FLV_MAX_BODY_SIZE) throw new FlvError(`FLV tag body of ${bodySize} bytes exceeds 24-bit size`);
  const ts = timestamp > 0 ? Math.floor(timestamp) % 0x100000000 : 0;
  out[offset] = tagType & 0x1f;
  out.writeUIntBE(bodySize, offset + 1, 3);
  out.writeUIntBE(ts % 0x1000000, offset + 4, 3);
  out[offset + 7] = Math.floor(ts / 0x1000000);
  out[offset + 8] = 0; // StreamID, always 0
  out[offset + 9] = 0;
  out[offset + 10] = 0;
}

/** One complete tag: header, body, PreviousTagSize (one allocation, one copy of the body). */
export function encodeFlvTag(tagType: number, timestamp: number, body: Buffer): Buffer {
  const size = body.length;
  const out = Buffer.allocUnsafe(FLV_TAG_HEADER_SIZE + size + 4);
  writeFlvTagHeader(out, 0, tagType, timestamp, size);
  body.copy(out, FLV_TAG_HEADER_SIZE);
  out.writeUInt32BE(FLV_TAG_HEADER_SIZE + size, FLV_TAG_HEADER_SIZE + size);
  return out;
}
