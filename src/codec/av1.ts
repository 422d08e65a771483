/**
 * AV1: AV1CodecConfigurationRecord ("av1C", AV1-ISOBMFF 2.3) and enough of the
 * sequence header OBU (AV1 spec 5.5) to know the maximum frame size. Tolerant:
 * a sequence header that cannot be read leaves width/height at 0.
 */
import { BitReader } from './bit-reader.js';
import { CodecError } from './codec-error.js';
import type { VideoInfo } from './codec-info.js';

const AV1_OBU_SEQUENCE_HEADER = 1;

export interface Av1Config {
  seqProfile: number;
  seqLevelIdx0: number;
  seqTier0: number;
  highBitdepth: boolean;
  twelveBit: boolean;
  monochrome: boolean;
  /** The configOBUs bytes (usually one sequence header OBU), a subarray. */
  configObus: Buffer;
  /** The sequence header OBU payload found in configObus, or null. */
  sequenceHeader: Buffer | null;
}

export interface Av1SequenceHeader {
  seqProfile: number;
  seqLevelIdx0: number;
  maxFrameWidth: number;
  maxFrameHeight: number;
}

export function parseAv1Config(buf: Buffer): Av1Config {
  if (buf.length < 4) throw new CodecError(`AV1 config: ${buf.length} bytes, need at least 4`);
  const b0 = buf[0]!;
  if ((b0 & 0x80) === 0) throw new CodecError('AV1 config: marker bit not set');
  if ((b0 & 0x7f) !== 1) throw new CodecError(`AV1 config: unsupported version ${b0 & 0x7f}`);
  const b1 = buf[1]!;
  const b2 = buf[2]!;
  const configObus = buf.subarray(4);
  let sequenceHeader: Buffer | null = null;
  try {
    sequenceHeader = findObu(configObus, AV1_OBU_SEQUENCE_HEADER);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
  }
  return {
    seqProfile: b1 >>> 5,
    seqLevelIdx0: b1 & 0x1f,
    seqTier0: b2 >>> 7,
    highBitdepth: (b2 & 0x40) !== 0,
    twelveBit: (b2 & 0x20) !== 0,
    monochrome: (b2 & 0x10) !== 0,
    configObus,
    sequenceHeader,
  };
}

function readLeb128(buf: Buffer, off: number): { value: number; size: number } {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (off + i >= buf.length) throw new CodecError('AV1: leb128 truncated');
    const b = buf[off + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { value, size: i + 1 };
  }
  throw new CodecError('AV1: leb128 longer than 8 bytes');
}

/** Finds the payload of the first OBU of a type in a low-overhead OBU sequence. */
export function findObu(data: Buffer, obuType: number): Buffer | null {
  let off = 0;
  while (off < data.length) {
    const header = data[off]!;
    if (header & 0x80) throw new CodecError('AV1: OBU forbidden bit set');
    const type = (header >>> 3) & 0xf;
    const hasExtension = (header & 4) !== 0;
    const hasSize = (header & 2) !== 0;
    let p = off + 1 + (hasExtension ? 1 : 0);
    let size: number;
    if (hasSize) {
      const l = readLeb128(data, p);
      p += l.size;
      size = l.value;
    } else {
      size = data.length - p; // last OBU runs to the end
    }
    if (p + size > data.length) throw new CodecError(`AV1: OBU of ${size} bytes overruns data`);
    if (type === obuType) return data.subarray(p, p + size);
    off = p + size;
  }
  return null;
}

/** Parses a sequence header OBU payload up to max_frame_{width,height}_minus_1. */
export function parseAv1SequenceHeader(payload: Buffer): Av1SequenceHeader {
  const r = new BitReader(payload);
  const seqProfile = r.readBits(3);
  r.skipBits(1); // still_picture
  const reduced = r.readFlag();
  let seqLevelIdx0 = 0;
  if (reduced) {
    seqLevelIdx0 = r.readBits(5);
  } else {
    let decoderModelInfoPresent = false;
    let bufferDelayLength = 0;
    if (r.readFlag()) {
      // timing_info
      r.skipBits(64); // num_units_in_display_tick, time_scale
      if (r.readFlag()) readUvlc(r); // equal_picture_interval → num_ticks_per_picture_minus_1
      decoderModelInfoPresent = r.readFlag();
      if (decoderModelInfoPresent) {
        bufferDelayLength = r.readBits(5) + 1;
        r.skipBits(32 + 5 + 5); // num_units_in_decoding_tick, removal/presentation time lengths
      }
    }
    const initialDisplayDelayPresent = r.readFlag();
    const opCount = r.readBits(5) + 1;
    for (let i = 0; i < opCount; i++) {
      r.skipBits(12); // operating_point_idc
      const level = r.readBits(5);
      if (i === 0) seqLevelIdx0 = level;
      if (level > 7) r.skipBits(1); // seq_tier
      if (decoderModelInfoPresent && r.readFlag()) r.skipBits(2 * bufferDelayLength + 1);
      if (initialDisplayDelayPresent && r.readFlag()) r.skipBits(4);
    }
  }
  const widthBits = r.readBits(4) + 1;
  const heightBits = r.readBits(4) + 1;
  const maxFrameWidth = r.readBits(widthBits) + 1;
  const maxFrameHeight = r.readBits(heightBits) + 1;
  return { seqProfile, seqLevelIdx0, maxFrameWidth, maxFrameHeight };
}

function readUvlc(r: BitReader): number {
  let zeros = 0;
  while (r.readBit() === 0) {
    if (++zeros >= 32) throw new CodecError('AV1: uvlc too long');
  }
  return zeros === 0 ? 0 : 2 ** zeros - 1 + r.readBits(zeros);
}

const AV1_PROFILE_NAMES = ['Main', 'High', 'Professional'];

/** seq_level_idx 0..23 → `2.0`..`7.3` (X = 2 + idx/4, Y = idx%4); 31 is "maximum parameters". */
export function av1LevelName(seqLevelIdx: number): string {
  if (seqLevelIdx < 0 || seqLevelIdx > 23) return 'Other';
  return `${2 + (seqLevelIdx >>> 2)}.${seqLevelIdx & 3}`;
}

export function describeAv1Config(record: Buffer): VideoInfo {
  const c = parseAv1Config(record);
  let width = 0;
  let height = 0;
  if (c.sequenceHeader) {
    try {
      const s = parseAv1SequenceHeader(c.sequenceHeader);
      width = s.maxFrameWidth;
      height = s.maxFrameHeight;
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
    }
  }
  return {
    codec: 'AV1',
    profile: AV1_PROFILE_NAMES[c.seqProfile] ?? 'Other',
    level: av1LevelName(c.seqLevelIdx0),
    width,
    height,
  };
}
