/**
 * H.265/HEVC: HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3) and the
 * part of the SPS (ITU-T H.265 7.3.2.2) that gives the picture size.
 */
import { BitReader, nalToRbsp } from './bit-reader.js';
import { CodecError } from './codec-error.js';
import type { VideoInfo } from './codec-info.js';
import { readNalLength } from './h264.js';

const HevcNalType = {
  /** 16..21 are IRAP pictures (BLA, IDR, CRA); 22..23 reserved IRAP. */
  IrapFirst: 16,
  IrapLast: 23,
  IdrWRadl: 19,
  IdrNLp: 20,
  Cra: 21,
  Vps: 32,
  Sps: 33,
  Pps: 34,
  Aud: 35,
  PrefixSei: 39,
} as const;

interface HevcNalArray {
  nalType: number;
  completeness: boolean;
  /** NAL units (with 2-byte NAL header), subarrays of the input. */
  units: Buffer[];
}

export interface HevcDecoderConfig {
  profileSpace: number;
  tierFlag: boolean;
  profileIdc: number;
  profileCompatibilityFlags: number;
  levelIdc: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  lengthSizeMinusOne: number;
  arrays: HevcNalArray[];
}

export interface HevcSps {
  profileSpace: number;
  profileIdc: number;
  profileCompatibilityFlags: number;
  tierFlag: boolean;
  levelIdc: number;
  chromaFormatIdc: number;
  /** Size after the conformance window. */
  width: number;
  height: number;
  codedWidth: number;
  codedHeight: number;
  /** sps_max_sub_layers_minus1 + 1 and sps_temporal_id_nesting_flag, for the config record. */
  subLayers: number;
  temporalIdNesting: boolean;
  /** The 48 general constraint indicator bits, as 6 bytes. */
  constraintFlags: Buffer;
  /** 8 when the SPS ends before bit_depth_luma_minus8 (short test SPSs). */
  bitDepthLuma: number;
  bitDepthChroma: number;
}

const HVCC_FIXED = 23;

export function parseHevcDecoderConfig(buf: Buffer): HevcDecoderConfig {
  if (buf.length < HVCC_FIXED) throw new CodecError(`HEVC config: ${buf.length} bytes, need at least ${HVCC_FIXED}`);
  if (buf[0] !== 1) throw new CodecError(`HEVC config: unsupported configurationVersion ${buf[0]}`);
  const b1 = buf[1]!;
  const arrays: HevcNalArray[] = [];
  const numArrays = buf[22]!;
  let off = HVCC_FIXED;
  for (let i = 0; i < numArrays; i++) {
    if (off + 3 > buf.length) throw new CodecError(`HEVC config: NAL array ${i} header truncated`);
    const t = buf[off]!;
    const count = buf.readUInt16BE(off + 1);
    off += 3;
    const units: Buffer[] = [];
    for (let j = 0; j < count; j++) {
      if (off + 2 > buf.length) throw new CodecError('HEVC config: NAL unit length truncated');
      const len = buf.readUInt16BE(off);
      off += 2;
      if (off + len > buf.length) {
        throw new CodecError(`HEVC config: NAL unit of ${len} bytes does not fit (${buf.length - off} left)`);
      }
      units.push(buf.subarray(off, off + len));
      off += len;
    }
    arrays.push({ nalType: t & 0x3f, completeness: (t & 0x80) !== 0, units });
  }
  return {
    profileSpace: b1 >>> 6,
    tierFlag: (b1 & 0x20) !== 0,
    profileIdc: b1 & 0x1f,
    profileCompatibilityFlags: buf.readUInt32BE(2),
    levelIdc: buf[12]!,
    chromaFormatIdc: buf[16]! & 3,
    bitDepthLuma: 8 + (buf[17]! & 7),
    bitDepthChroma: 8 + (buf[18]! & 7),
    lengthSizeMinusOne: buf[21]! & 3,
    arrays,
  };
}

/** Parses an SPS NAL unit (including its 2-byte NAL header) up to the conformance window. */
export function parseHevcSps(nal: Buffer): HevcSps {
  if (nal.length < 4) throw new CodecError(`HEVC SPS: ${nal.length} bytes is too short`);
  const nalType = (nal[0]! >>> 1) & 0x3f;
  if (nalType !== HevcNalType.Sps) throw new CodecError(`HEVC SPS: NAL type ${nalType} is not 33`);
  const r = new BitReader(nalToRbsp(nal), 2);
  r.skipBits(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.readBits(3);
  const temporalIdNesting = r.readFlag();
  // profile_tier_level(1, maxSubLayersMinus1)
  const profileSpace = r.readBits(2);
  const tierFlag = r.readFlag();
  const profileIdc = r.readBits(5);
  const profileCompatibilityFlags = r.readBits(32);
  // progressive/interlaced/non-packed/frame-only + 44 constraint bits
  const constraintFlags = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) constraintFlags[i] = r.readBits(8);
  const levelIdc = r.readBits(8);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.readFlag());
    subLevel.push(r.readFlag());
  }
  if (maxSubLayersMinus1 > 0) r.skipBits(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skipBits(88);
    if (subLevel[i]) r.skipBits(8);
  }
  const spsId = r.readUE();
  if (spsId > 15) throw new CodecError(`HEVC SPS: sps_seq_parameter_set_id ${spsId} > 15`);
  const chromaFormatIdc = r.readUE();
  if (chromaFormatIdc > 3) throw new CodecError(`HEVC SPS: chroma_format_idc ${chromaFormatIdc} > 3`);
  let separateColourPlane = false;
  if (chromaFormatIdc === 3) separateColourPlane = r.readFlag();
  const codedWidth = r.readUE();
  const codedHeight = r.readUE();
  if (codedWidth === 0 || codedHeight === 0) throw new CodecError(`HEVC SPS: picture size ${codedWidth}x${codedHeight}`);
  let width = codedWidth;
  let height = codedHeight;
  if (r.readFlag()) {
    const left = r.readUE();
    const right = r.readUE();
    const top = r.readUE();
    const bottom = r.readUE();
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    width -= subWidthC * (left + right);
    height -= subHeightC * (top + bottom);
    if (width <= 0 || height <= 0) throw new CodecError(`HEVC SPS: conformance window leaves ${width}x${height}`);
  }
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  try {
    const l = 8 + r.readUE();
    const c = 8 + r.readUE();
    // Out of range (or read from padding): keep 8, which every decoder re-reads from the SPS anyway.
    if (l <= 15 && c <= 15) [bitDepthLuma, bitDepthChroma] = [l, c];
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
  }
  return {
    profileSpace,
    profileIdc,
    profileCompatibilityFlags,
    tierFlag,
    levelIdc,
    chromaFormatIdc,
    width,
    height,
    codedWidth,
    codedHeight,
    subLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    constraintFlags,
    bitDepthLuma,
    bitDepthChroma,
  };
}

/**
 * An HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1) from the
 * parameter sets of an Annex-B stream (MPEG-TS ingest), with 4-byte NAL
 * lengths; the general fields come from the first SPS. Throws CodecError on
 * an SPS that cannot be parsed or a NAL unit too large for the record.
 */
export function buildHevcDecoderConfig(vps: Buffer[], sps: Buffer[], pps: Buffer[]): Buffer {
  if (sps.length === 0) throw new CodecError('HEVC config: no SPS');
  const s = parseHevcSps(sps[0]!);
  const arrays: [number, Buffer[]][] = [
    [HevcNalType.Vps, vps],
    [HevcNalType.Sps, sps],
    [HevcNalType.Pps, pps],
  ];
  const present = arrays.filter(([, units]) => units.length > 0);
  let size = HVCC_FIXED;
  for (const [, units] of present) {
    if (units.length > 0xffff) throw new CodecError(`HEVC config: ${units.length} NAL units in one array`);
    size += 3;
    for (const u of units) {
      if (u.length > 0xffff) throw new CodecError(`HEVC config: a NAL unit of ${u.length} bytes`);
      size += 2 + u.length;
    }
  }
  const b = Buffer.alloc(size);
  b[0] = 1;
  b[1] = (s.profileSpace << 6) | (s.tierFlag ? 0x20 : 0) | s.profileIdc;
  b.writeUInt32BE(s.profileCompatibilityFlags >>> 0, 2);
  s.constraintFlags.copy(b, 6);
  b[12] = s.levelIdc;
  b.writeUInt16BE(0xf000, 13); // reserved + min_spatial_segmentation_idc 0
  b[15] = 0xfc; // reserved + parallelismType 0 (unknown)
  b[16] = 0xfc | s.chromaFormatIdc;
  b[17] = 0xf8 | (s.bitDepthLuma - 8);
  b[18] = 0xf8 | (s.bitDepthChroma - 8);
  b.writeUInt16BE(0, 19); // avgFrameRate unknown
  // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3
  b[21] = ((s.subLayers & 7) << 3) | (s.temporalIdNesting ? 4 : 0) | 3;
  b[22] = present.length;
  let o = HVCC_FIXED;
  for (const [type, units] of present) {
    b[o] = 0x80 | type; // array_completeness: every set of this type is here
    b.writeUInt16BE(units.length, o + 1);
    o += 3;
    for (const u of units) {
      b.writeUInt16BE(u.length, o);
      u.copy(b, o + 2);
      o += 2 + u.length;
    }
  }
  return b;
}

const PROFILE_NAMES: Record<number, string> = { 1: 'Main', 2: 'Main10', 3: 'Main Still Picture', 4: 'Rext' };

/** SRS's HEVC profile names; a zero profile_idc falls back to the compatibility flags. */
export function hevcProfileName(profileIdc: number, compatibilityFlags = 0): string {
  const direct = PROFILE_NAMES[profileIdc];
  if (direct) return direct;
  for (let j = 1; j <= 4; j++) {
    // general_profile_compatibility_flag[j] is bit (31 - j) of the 32-bit word.
    if ((compatibilityFlags >>> (31 - j)) & 1) return PROFILE_NAMES[j]!;
  }
  return 'Other';
}

/** general_level_idc is 30 × level: 93 → `3.1`, 120 → `4`. */
export function hevcLevelName(levelIdc: number): string {
  if (levelIdc <= 0 || levelIdc % 3 !== 0) return 'Other';
  const major = Math.floor(levelIdc / 30);
  const minor = (levelIdc % 30) / 3;
  if (major === 0) return 'Other';
  return minor === 0 ? String(major) : `${major}.${minor}`;
}

/**
 * Describes a stream from its HEVCDecoderConfigurationRecord. Tolerant: a
 * record truncated after its fixed part, or an SPS that cannot be parsed,
 * still yields profile and level (width/height 0 when unknown).
 */
export function describeHevcConfig(record: Buffer): VideoInfo {
  if (record.length < HVCC_FIXED) throw new CodecError(`HEVC config: ${record.length} bytes, need at least ${HVCC_FIXED}`);
  const b1 = record[1]!;
  let profileIdc = b1 & 0x1f;
  let compat = record.readUInt32BE(2);
  let levelIdc = record[12]!;
  let width = 0;
  let height = 0;
  try {
    const cfg = parseHevcDecoderConfig(record);
    const sps = cfg.arrays.find((a) => a.nalType === HevcNalType.Sps)?.units[0];
    if (sps) {
      const s = parseHevcSps(sps);
      width = s.width;
      height = s.height;
      if (profileIdc === 0 && compat === 0) {
        profileIdc = s.profileIdc;
        compat = s.profileCompatibilityFlags;
      }
      if (levelIdc === 0) levelIdc = s.levelIdc;
    }
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
  }
  return { codec: 'HEVC', profile: hevcProfileName(profileIdc, compat), level: hevcLevelName(levelIdc), width, height };
}

/** True if length-prefixed H.265 data contains an IRAP picture (IDR/CRA/BLA). Does not allocate. */
export function hevcHasIrap(data: Buffer, lengthSize = 4): boolean {
  let off = 0;
  while (off < data.length) {
    const len = readNalLength(data, off, lengthSize);
    off += lengthSize;
    if (len > 0) {
      const t = (data[off]! >>> 1) & 0x3f;
      if (t >= HevcNalType.IrapFirst && t <= HevcNalType.IrapLast) return true;
    }
    off += len;
  }
  return false;
}
