/** MPEG-1/2/2.5 audio (layers I-III) frame header, for MP3 in FLV, TS and raw `.mp3`. */
import { CodecError } from './codec-error.js';
import type { AudioInfo } from './codec-info.js';

export interface MpegAudioHeader {
  /** 1 (MPEG-1), 2 (MPEG-2), 2.5 (MPEG-2.5). */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  /** kbit/s; 0 for "free format". */
  bitrate: number;
  sampleRate: number;
  channels: 1 | 2;
  padding: boolean;
  /** Whole frame length in bytes including the 4-byte header (0 for free format). */
  frameLength: number;
  samplesPerFrame: number;
}

// kbit/s by [version group][layer - 1][index]; version group 0 = MPEG-1, 1 = MPEG-2/2.5.
const BITRATES: readonly (readonly (readonly number[])[])[] = [
  [
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  [
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
];
const SAMPLE_RATES_MPEG1 = [44100, 48000, 32000];

export function parseMpegAudioHeader(buf: Buffer, offset = 0): MpegAudioHeader {
  if (offset < 0 || offset + 4 > buf.length) throw new CodecError('MPEG audio: header truncated');
  const b1 = buf[offset + 1]!;
  const b2 = buf[offset + 2]!;
  const b3 = buf[offset + 3]!;
  if (buf[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) throw new CodecError(`MPEG audio: no sync at offset ${offset}`);
  const versionBits = (b1 >>> 3) & 3;
  if (versionBits === 1) throw new CodecError('MPEG audio: reserved version');
  const layerBits = (b1 >>> 1) & 3;
  if (layerBits === 0) throw new CodecError('MPEG audio: reserved layer');
  const bitrateIndex = b2 >>> 4;
  if (bitrateIndex === 15) throw new CodecError('MPEG audio: bad bitrate index 15');
  const rateIndex = (b2 >>> 2) & 3;
  if (rateIndex === 3) throw new CodecError('MPEG audio: reserved sample rate index');
  const version: 1 | 2 | 2.5 = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const sampleRate = SAMPLE_RATES_MPEG1[rateIndex]! / (version === 1 ? 1 : version === 2 ? 2 : 4);
  const bitrate = BITRATES[version === 1 ? 0 : 1]![layer - 1]![bitrateIndex]!;
  const padding = (b2 & 2) !== 0;
  const pad = padding ? 1 : 0;
  let samplesPerFrame: number;
  let frameLength = 0;
  if (layer === 1) {
    samplesPerFrame = 384;
    if (bitrate) frameLength = (Math.floor((12 * bitrate * 1000) / sampleRate) + pad) * 4;
  } else {
    samplesPerFrame = layer === 3 && version !== 1 ? 576 : 1152;
    if (bitrate) frameLength = Math.floor(((samplesPerFrame / 8) * bitrate * 1000) / sampleRate) + pad;
  }
  return {
    version,
    layer,
    bitrate,
    sampleRate,
    channels: b3 >>> 6 === 3 ? 1 : 2,
    padding,
    frameLength,
    samplesPerFrame,
  };
}

export function describeMpegAudio(frame: Buffer): AudioInfo {
  const h = parseMpegAudioHeader(frame);
  return { codec: 'MP3', profile: 'Other', sampleRate: h.sampleRate, channels: h.channels };
}
