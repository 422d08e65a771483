/**
 * H.264/AVC: AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3), SPS
 * (ITU-T H.264 7.3.2.1) and helpers over length-prefixed NAL unit data.
 */
import { BitReader, nalToRbsp } from './bit-reader.js';
import { CodecError } from './codec-error.js';
import type { VideoInfo } from './codec-info.js';

const H264NalType = {
  NonIdr: 1,
  Idr: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
  Aud: 9,
} as const;

export interface AvcDecoderConfig {
  profileIdc: number;
  profileCompatibility: number;
  levelIdc: number;
  /** NAL length prefix size in bytes minus one (normally 3). */
  lengthSizeMinusOne: number;
  /** SPS NAL units (with NAL header byte), subarrays of the input. */
  sps: Buffer[];
  /** PPS NAL units (with NAL header byte), subarrays of the input. */
  pps: Buffer[];
}

export interface H264Sps {
  profileIdc: number;
  /** constraint_set0..5 flags as the raw byte. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  bitDepthLuma: number;
  bitDepthChroma: number;
  frameMbsOnly: boolean;
  maxNumRefFrames: number;
  /** Decoded size before cropping. */
  codedWidth: number;
  codedHeight: number;
  /** Display size after the frame cropping rectangle. */
  width: number;
  height: number;
}

export function parseAvcDecoderConfig(buf: Buffer): AvcDecoderConfig {
  if (buf.length < 7) throw new CodecError(`AVC config: ${buf.length} bytes, need at least 7`);
  if (buf[0] !== 1) throw new CodecError(`AVC config: unsupported configurationVersion ${buf[0]}`);
  const lengthSizeMinusOne = buf[4]! & 3;
  if (lengthSizeMinusOne === 2) throw new CodecError('AVC config: NAL length size 3 is not allowed');
  let off = 5;
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const numSps = buf[off++]! & 0x1f;
  for (let i = 0; i < numSps; i++) off = readParamSet(buf, off, sps, 'SPS');
  if (off >= buf.length) throw new CodecError('AVC config: truncated before numOfPictureParameterSets');
  const numPps = buf[off++]!;
  for (let i = 0; i < numPps; i++) off = readParamSet(buf, off, pps, 'PPS');
  return {
    profileIdc: buf[1]!,
    profileCompatibility: buf[2]!,
    levelIdc: buf[3]!,
    lengthSizeMinusOne,
    sps,
    pps,
  };
}

function readParamSet(buf: Buffer, off: number, out: Buffer[], what: string): number {
  if (off + 2 > buf.length) throw new CodecError(`AVC config: truncated ${what} length`);
  const len = buf.readUInt16BE(off);
  off += 2;
  if (len === 0 || off + len > buf.length) {
    throw new CodecError(`AVC config: ${what} of ${len} bytes does not fit (${buf.length - off} left)`);
  }
  out.push(buf.subarray(off, off + len));
  return off + len;
}

/** Profiles whose SPS carries chroma format, bit depth and scaling matrices. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Parses an SPS NAL unit (including its 1-byte NAL header). */
export function parseH264Sps(nal: Buffer): H264Sps {
  if (nal.length < 4) throw new CodecError(`H.264 SPS: ${nal.length} bytes is too short`);
  if ((nal[0]! & 0x1f) !== H264NalType.Sps) throw new CodecError(`H.264 SPS: NAL type ${nal[0]! & 0x1f} is not 7`);
  const rbsp = nalToRbsp(nal);
  const r = new BitReader(rbsp, 1);
  const profileIdc = r.readBits(8);
  const constraintFlags = r.readBits(8);
  const levelIdc = r.readBits(8);
  const spsId = r.readUE();
  if (spsId > 31) throw new CodecError(`H.264 SPS: seq_parameter_set_id ${spsId} > 31`);
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.readUE();
    if (chromaFormatIdc > 3) throw new CodecError(`H.264 SPS: chroma_format_idc ${chromaFormatIdc} > 3`);
    if (chromaFormatIdc === 3) separateColourPlane = r.readFlag();
    bitDepthLuma = 8 + r.readUE();
    bitDepthChroma = 8 + r.readUE();
    if (bitDepthLuma > 14 || bitDepthChroma > 14) throw new CodecError('H.264 SPS: bit depth > 14');
    r.skipBits(1); // qpprime_y_zero_transform_bypass_flag
    if (r.readFlag()) {
      // seq_scaling_matrix_present_flag: walk the lists only to get past them.
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (r.readFlag()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  r.readUE(); // log2_max_frame_num_minus4
  const pocType = r.readUE();
  if (pocType === 0) {
    r.readUE(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.skipBits(1); // delta_pic_order_always_zero_flag
    r.readSE(); // offset_for_non_ref_pic
    r.readSE(); // offset_for_top_to_bottom_field
    const cycle = r.readUE();
    if (cycle > 255) throw new CodecError(`H.264 SPS: num_ref_frames_in_pic_order_cnt_cycle ${cycle} > 255`);
    for (let i = 0; i < cycle; i++) r.readSE();
  } else if (pocType !== 2) {
    throw new CodecError(`H.264 SPS: pic_order_cnt_type ${pocType} > 2`);
  }
  const maxNumRefFrames = r.readUE();
  r.skipBits(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.readUE() + 1;
  const heightMapUnits = r.readUE() + 1;
  const frameMbsOnly = r.readFlag();
  if (!frameMbsOnly) r.skipBits(1); // mb_adaptive_frame_field_flag
  r.skipBits(1); // direct_8x8_inference_flag
  const codedWidth = widthMbs * 16;
  const codedHeight = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16;
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
    const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
    const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (frameMbsOnly ? 1 : 2);
    width -= cropUnitX * (left + right);
    height -= cropUnitY * (top + bottom);
    if (width <= 0 || height <= 0) throw new CodecError(`H.264 SPS: cropping leaves ${width}x${height}`);
  }
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
    maxNumRefFrames,
    codedWidth,
    codedHeight,
    width,
    height,
  };
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.readSE();
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/** SRS's profile names, keyed by profile_idc (SRS does not look at constraint flags). */
const PROFILE_NAMES: Record<number, string> = {
  66: 'Baseline',
  77: 'Main',
  88: 'Extended',
  100: 'High',
  110: 'High(10)',
  122: 'High(422)',
  144: 'High(444)',
  244: 'High(444+Predictive)',
};

export function h264ProfileName(profileIdc: number): string {
  return PROFILE_NAMES[profileIdc] ?? 'Other';
}

/** level_idc 31 → `3.1`, 30 → `3`; 9 is level 1b. */
export function h264LevelName(levelIdc: number): string {
  if (levelIdc === 9) return '1b';
  if (levelIdc < 10 || levelIdc > 99) return 'Other';
  const major = Math.floor(levelIdc / 10);
  const minor = levelIdc % 10;
  return minor === 0 ? String(major) : `${major}.${minor}`;
}

/**
 * Describes a stream from its AVCDecoderConfigurationRecord. A malformed record
 * throws; an SPS that cannot be parsed only leaves width/height at 0.
 */
export function describeAvcConfig(record: Buffer): VideoInfo {
  const cfg = parseAvcDecoderConfig(record);
  let profileIdc = cfg.profileIdc;
  let levelIdc = cfg.levelIdc;
  let width = 0;
  let height = 0;
  const first = cfg.sps[0];
  if (first) {
    try {
      const sps = parseH264Sps(first);
      profileIdc = sps.profileIdc;
      levelIdc = sps.levelIdc;
      width = sps.width;
      height = sps.height;
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
    }
  }
  return { codec: 'H264', profile: h264ProfileName(profileIdc), level: h264LevelName(levelIdc), width, height };
}

/**
 * Iterates over length-prefixed NAL units (AVCC/HVCC form), yielding subarrays.
 * Throws CodecError if a length runs past the end of the data.
 */
export function* nalUnits(data: Buffer, lengthSize = 4): Generator<Buffer, void, undefined> {
  let off = 0;
  while (off < data.length) {
    const len = readNalLength(data, off, lengthSize);
    off += lengthSize;
    yield data.subarray(off, off + len);
    off += len;
  }
}

/** Reads one NAL length prefix and checks that the unit fits. */
export function readNalLength(data: Buffer, off: number, lengthSize: number): number {
  if (off + lengthSize > data.length) throw new CodecError(`NAL length prefix truncated at offset ${off}`);
  let len: number;
  switch (lengthSize) {
    case 4:
      len = data.readUInt32BE(off);
      break;
    case 2:
      len = data.readUInt16BE(off);
      break;
    case 1:
      len = data[off]!;
      break;
    case 3:
      len = data.readUIntBE(off, 3);
      break;
    default:
      throw new CodecError(`NAL length size ${lengthSize} is not 1..4`);
  }
  if (off + lengthSize + len > data.length) {
    throw new CodecError(`NAL unit of ${len} bytes at offset ${off} overruns ${data.length}-byte frame`);
  }
  return len;
}

/** True if length-prefixed H.264 data contains an IDR slice. Does not allocate. */
export function h264HasIdr(data: Buffer, lengthSize = 4): boolean {
  let off = 0;
  while (off < data.length) {
    const len = readNalLength(data, off, lengthSize);
    off += lengthSize;
    if (len > 0 && (data[off]! & 0x1f) === H264NalType.Idr) return true;
    off += len;
  }
  return false;
}

/** AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) for one SPS and one PPS, with 4-byte NAL lengths. */
export function buildAvcDecoderConfig(sps: Buffer, pps: Buffer): Buffer {
  const b = Buffer.allocUnsafe(11 + sps.length + pps.length);
  b[0] = 1;
  b[1] = sps[1] ?? 0x42;
  b[2] = sps[2] ?? 0;
  b[3] = sps[3] ?? 0x1f;
  b[4] = 0xff; // 4-byte NAL lengths
  b[5] = 0xe1; // one SPS
  b.writeUInt16BE(sps.length, 6);
  sps.copy(b, 8);
  const off = 8 + sps.length;
  b[off] = 1;
  b.writeUInt16BE(pps.length, off + 1);
  pps.copy(b, off + 3);
  return b;
}
