/**
 * AAC: AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1) and ADTS headers
 * (14496-3 1.A.2), the framing MPEG-TS/HLS and raw `.aac` outputs need.
 */
import { BitReader } from './bit-reader.js';
import { CodecError } from './codec-error.js';
import type { AudioInfo } from './codec-info.js';

const AAC_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

export interface AacConfig {
  /** audioObjectType as signalled (5 = SBR/HE, 29 = PS/HEv2). */
  objectType: number;
  /** `Main`, `LC`, `SSR`, `HE`, `HEv2`, `Other`. */
  profile: string;
  /** 0..12, or 15 when the rate is explicit. */
  samplingIndex: number;
  /** Core sample rate in Hz. */
  sampleRate: number;
  channelConfig: number;
  /** Channel count (channelConfig 7 means 8 channels; 0 = defined in-band, reported as 0). */
  channels: number;
  /** For HE-AAC with explicit signalling: the SBR output rate, else 0. */
  extensionSampleRate: number;
  /** For HE-AAC: the underlying object type (usually 2, LC), else equal to objectType. */
  coreObjectType: number;
}

function aacProfileName(objectType: number): string {
  switch (objectType) {
    case 1:
      return 'Main';
    case 2:
      return 'LC';
    case 3:
      return 'SSR';
    case 5:
      return 'HE';
    case 29:
      return 'HEv2';
    default:
      return 'Other';
  }
}

function readObjectType(r: BitReader): number {
  const t = r.readBits(5);
  return t === 31 ? 32 + r.readBits(6) : t;
}

function readSampleRate(r: BitReader): { index: number; rate: number } {
  const index = r.readBits(4);
  if (index === 15) {
    const rate = r.readBits(24);
    if (rate === 0) throw new CodecError('AAC config: explicit sample rate 0');
    return { index, rate };
  }
  const rate = AAC_SAMPLE_RATES[index];
  if (rate === undefined) throw new CodecError(`AAC config: reserved sampling frequency index ${index}`);
  return { index, rate };
}

/** Parses an AudioSpecificConfig (the AAC sequence header payload). */
export function parseAudioSpecificConfig(buf: Buffer): AacConfig {
  if (buf.length < 2) throw new CodecError(`AAC config: ${buf.length} bytes, need at least 2`);
  const r = new BitReader(buf);
  const objectType = readObjectType(r);
  if (objectType === 0) throw new CodecError('AAC config: audio object type 0');
  const sr = readSampleRate(r);
  const channelConfig = r.readBits(4);
  let extensionSampleRate = 0;
  let coreObjectType = objectType;
  if (objectType === 5 || objectType === 29) {
    // Explicit hierarchical SBR/PS signalling: extension rate, then the core object type.
    extensionSampleRate = readSampleRate(r).rate;
    coreObjectType = readObjectType(r);
  }
  return {
    objectType,
    profile: aacProfileName(objectType),
    samplingIndex: sr.index,
    sampleRate: sr.rate,
    channelConfig,
    channels: channelConfig === 7 ? 8 : channelConfig < 7 ? channelConfig : 0,
    extensionSampleRate,
    coreObjectType,
  };
}

/** Builds a 2-byte AudioSpecificConfig for a plain AAC stream (e.g. from an ADTS header). */
export function buildAudioSpecificConfig(objectType: number, samplingIndex: number, channelConfig: number): Buffer {
  if (objectType < 1 || objectType > 30) throw new CodecError(`AAC config: cannot encode object type ${objectType}`);
  if (samplingIndex < 0 || samplingIndex > 12) throw new CodecError(`AAC config: bad sampling index ${samplingIndex}`);
  if (channelConfig < 0 || channelConfig > 15) throw new CodecError(`AAC config: bad channel config ${channelConfig}`);
  const v = (objectType << 11) | (samplingIndex << 7) | (channelConfig << 3);
  const out = Buffer.allocUnsafe(2);
  out.writeUInt16BE(v, 0);
  return out;
}

export function describeAacConfig(asc: Buffer): AudioInfo {
  const c = parseAudioSpecificConfig(asc);
  return { codec: 'AAC', profile: c.profile, sampleRate: c.extensionSampleRate || c.sampleRate, channels: c.channels };
}

export const ADTS_HEADER_SIZE = 7;
const ADTS_MAX_FRAME = 0x1fff;

/**
 * Writes a 7-byte ADTS header (no CRC) for a raw AAC frame of payloadLength
 * bytes into out at offset. Object types beyond 4 (HE-AAC) are written as LC
 * with the core rate: ADTS has 2 profile bits and decoders find SBR/PS in-band.
 */
export function writeAdtsHeader(
  out: Buffer,
  offset: number,
  objectType: number,
  samplingIndex: number,
  channelConfig: number,
  payloadLength: number,
): void {
  const profile = (objectType >= 1 && objectType <= 4 ? objectType : 2) - 1;
  if (samplingIndex < 0 || samplingIndex > 12) throw new CodecError(`ADTS: sampling index ${samplingIndex} not expressible`);
  if (channelConfig < 0 || channelConfig > 7) throw new CodecError(`ADTS: channel config ${channelConfig} not expressible`);
  const frameLength = payloadLength + ADTS_HEADER_SIZE;
  if (payloadLength < 0 || frameLength > ADTS_MAX_FRAME) throw new CodecError(`ADTS: frame of ${frameLength} bytes exceeds 8191`);
  if (offset < 0 || offset + ADTS_HEADER_SIZE > out.length) throw new CodecError('ADTS: output buffer too small');
  out[offset] = 0xff;
  out[offset + 1] = 0xf1; // sync, MPEG-4, layer 0, protection_absent
  out[offset + 2] = (profile << 6) | (samplingIndex << 2) | (channelConfig >>> 2);
  out[offset + 3] = ((channelConfig & 3) << 6) | (frameLength >>> 11);
  out[offset + 4] = (frameLength >>> 3) & 0xff;
  out[offset + 5] = ((frameLength & 7) << 5) | 0x1f; // buffer fullness 0x7FF (VBR)
  out[offset + 6] = 0xfc; // fullness low bits, one raw data block
}

/** Allocates a 7-byte ADTS header for a frame of payloadLength bytes with this config. */
export function buildAdtsHeader(config: AacConfig, payloadLength: number): Buffer {
  const out = Buffer.allocUnsafe(ADTS_HEADER_SIZE);
  writeAdtsHeader(out, 0, config.coreObjectType, config.samplingIndex, config.channelConfig, payloadLength);
  return out;
}

export interface AdtsHeader {
  /** audioObjectType (ADTS profile + 1). */
  objectType: number;
  samplingIndex: number;
  sampleRate: number;
  channelConfig: number;
  /** Whole frame length including the header. */
  frameLength: number;
  /** 7, or 9 with CRC. */
  headerLength: number;
  /** Raw data blocks in the frame (1..4). */
  rawBlocks: number;
}

/** Parses the ADTS header at offset; throws CodecError on bad sync or lengths. */
export function parseAdtsHeader(buf: Buffer, offset = 0): AdtsHeader {
  if (offset < 0 || offset + ADTS_HEADER_SIZE > buf.length) throw new CodecError('ADTS: header truncated');
  const b1 = buf[offset + 1]!;
  if (buf[offset] !== 0xff || (b1 & 0xf6) !== 0xf0) throw new CodecError(`ADTS: no sync word at offset ${offset}`);
  const protectionAbsent = b1 & 1;
  const b2 = buf[offset + 2]!;
  const b3 = buf[offset + 3]!;
  const samplingIndex = (b2 >>> 2) & 0xf;
  const sampleRate = AAC_SAMPLE_RATES[samplingIndex];
  if (sampleRate === undefined) throw new CodecError(`ADTS: reserved sampling index ${samplingIndex}`);
  const frameLength = ((b3 & 3) << 11) | (buf[offset + 4]! << 3) | (buf[offset + 5]! >>> 5);
  const headerLength = protectionAbsent ? 7 : 9;
  if (frameLength < headerLength) throw new CodecError(`ADTS: frame length ${frameLength} shorter than header`);
  return {
    objectType: (b2 >>> 6) + 1,
    samplingIndex,
    sampleRate,
    channelConfig: ((b2 & 1) << 2) | (b3 >>> 6),
    frameLength,
    headerLength,
    rawBlocks: (buf[offset + 6]! & 3) + 1,
  };
}
