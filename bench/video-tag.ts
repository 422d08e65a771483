/**
 * The little the load generator needs to know about FLV/RTMP video bodies:
 * whether a body is a coded frame (not a sequence header), and a latency
 * stamp carried in an H.264 SEI "user data unregistered" NAL unit.
 */
import { BenchError } from './bench-error.js';

/** True for a video body that carries a coded frame (legacy or enhanced RTMP). */
export function isVideoFrame(body: Buffer): boolean {
  if (body.length < 2) return false;
  const b0 = body[0];
  if (b0 & 0x80) {
    // Enhanced RTMP: low nibble is the packet type; 1 CodedFrames, 3 CodedFramesX.
    const pt = b0 & 0x0f;
    return ((b0 >> 4) & 0x07) !== 5 && (pt === 1 || pt === 3);
  }
  if (b0 >> 4 === 5) return false; // video info / command frame
  const codec = b0 & 0x0f;
  if (codec === 7 || codec === 12 || codec === 13) return body[1] === 1;
  return true;
}

/** Our SEI UUID: 16 bytes with no zero byte, so no emulation prevention is needed. */
export const STAMP_UUID = Buffer.from('5b1c3e7a9f2d4b6e8a1c5d7f9e3b2a41', 'hex');
/** The stamp: wall-clock ms with 3 decimals, as 17 ASCII characters (no zero bytes). */
const STAMP_CHARS = 17;
/** NAL header (1) + payload type (1) + size (1) + UUID (16) + stamp + rbsp trailing bits (1). */
const SEI_NAL_SIZE = 1 + 1 + 1 + 16 + STAMP_CHARS + 1;

/** Wall-clock time in ms with sub-ms precision, comparable across processes of this machine. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Length-prefixed (4-byte) SEI NAL unit carrying `ms`. */
export function buildStampNal(ms: number): Buffer {
  const text = ms.toFixed(3).padStart(STAMP_CHARS, '0');
  if (text.length !== STAMP_CHARS) throw new BenchError(`stamp ${ms} does not fit ${STAMP_CHARS} characters`);
  const out = Buffer.allocUnsafe(4 + SEI_NAL_SIZE);
  out.writeUInt32BE(SEI_NAL_SIZE, 0);
  out[4] = 0x06; // nal_unit_type 6 (SEI), nal_ref_idc 0
  out[5] = 5; // user_data_unregistered
  out[6] = 16 + STAMP_CHARS;
  STAMP_UUID.copy(out, 7);
  out.write(text, 23, 'latin1');
  out[4 + SEI_NAL_SIZE - 1] = 0x80;
  return out;
}

/**
 * A legacy AVC NALU body (5-byte header + 4-byte length-prefixed NAL units)
 * with the stamp inserted after a leading access unit delimiter, if any.
 * Returns null for bodies that are not H.264 coded frames.
 */
export function stampAvcBody(body: Buffer, ms: number): Buffer | null {
  if (body.length < 5 || (body[0] & 0x0f) !== 7 || body[0] & 0x80 || body[1] !== 1) return null;
  let at = 5;
  if (body.length >= 10 && (body[9] & 0x1f) === 9) {
    const len = body.readUInt32BE(5);
    if (9 + len <= body.length) at = 9 + len;
  }
  const nal = buildStampNal(ms);
  return Buffer.concat([body.subarray(0, at), nal, body.subarray(at)]);
}

/** Finds our stamp in a legacy AVC NALU body; returns the stamped ms or null. Never throws on bad NAL lengths. */
export function readAvcStamp(body: Buffer): number | null {
  if (body.length < 5 || (body[0] & 0x0f) !== 7 || body[0] & 0x80 || body[1] !== 1) return null;
  let p = 5;
  while (p + 4 <= body.length) {
    const len = body.readUInt32BE(p);
    p += 4;
    if (len === 0 || p + len > body.length) return null;
    if ((body[p] & 0x1f) === 6 && len >= SEI_NAL_SIZE && body[p + 1] === 5 && body[p + 2] === 16 + STAMP_CHARS) {
      if (body.compare(STAMP_UUID, 0, 16, p + 3, p + 19) === 0) {
        const v = Number(body.toString('latin1', p + 19, p + 19 + STAMP_CHARS));
        return Number.isFinite(v) ? v : null;
      }
    }
    p += len;
  }
  return null;
}
