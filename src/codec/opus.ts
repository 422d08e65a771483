/** Opus identification header "OpusHead" (RFC 7845 5.1), the Opus sequence header. */
import { CodecError } from './codec-error.js';
import type { AudioInfo } from './codec-info.js';

export interface OpusHead {
  channels: number;
  preSkip: number;
  /** The original input rate (informational; Opus always decodes at 48 kHz). */
  inputSampleRate: number;
  outputGain: number;
  mappingFamily: number;
}

export function parseOpusHead(buf: Buffer): OpusHead {
  if (buf.length < 19) throw new CodecError(`OpusHead: ${buf.length} bytes, need at least 19`);
  if (buf.toString('latin1', 0, 8) !== 'OpusHead') throw new CodecError('OpusHead: bad magic');
  const channels = buf[9]!;
  if (channels === 0) throw new CodecError('OpusHead: 0 channels');
  return {
    channels,
    preSkip: buf.readUInt16LE(10),
    inputSampleRate: buf.readUInt32LE(12),
    outputGain: buf.readInt16LE(16),
    mappingFamily: buf[18]!,
  };
}

export function describeOpusHead(buf: Buffer): AudioInfo {
  const h = parseOpusHead(buf);
  return { codec: 'Opus', profile: 'Other', sampleRate: 48000, channels: h.channels };
}

/** Channel mappings of RFC 7845 5.1.1.2 (Vorbis order) for 1..8 channels: [streams, coupled, mapping]. */
const VORBIS_MAPPING: readonly [number, number, readonly number[]][] = [
  [1, 0, [0]],
  [1, 1, [0, 1]],
  [2, 1, [0, 2, 1]],
  [2, 2, [0, 1, 2, 3]],
  [3, 2, [0, 4, 1, 2, 3]],
  [4, 2, [0, 4, 1, 2, 3, 5]],
  [4, 3, [0, 4, 1, 2, 3, 5, 6]],
  [5, 3, [0, 6, 1, 2, 3, 4, 5, 7]],
];

/**
 * An OpusHead for `channels` (1..8): mapping family 0 for mono/stereo, 1
 * (Vorbis order) above, as the Opus-in-MPEG-TS channel_config_code implies.
 */
export function buildOpusHead(channels: number, preSkip = 0, inputSampleRate = 48000): Buffer {
  if (!Number.isInteger(channels) || channels < 1 || channels > 8) throw new CodecError(`OpusHead: ${channels} channels (1..8)`);
  const family = channels > 2 ? 1 : 0;
  const b = Buffer.alloc(family ? 21 + channels : 19);
  b.write('OpusHead', 0, 'latin1');
  b[8] = 1;
  b[9] = channels;
  b.writeUInt16LE(preSkip & 0xffff, 10);
  b.writeUInt32LE(inputSampleRate >>> 0, 12);
  b.writeInt16LE(0, 16);
  b[18] = family;
  if (family) {
    const [streams, coupled, mapping] = VORBIS_MAPPING[channels - 1]!;
    b[19] = streams;
    b[20] = coupled;
    for (let i = 0; i < channels; i++) b[21 + i] = mapping[i]!;
  }
  return b;
}

/** Samples at 48 kHz in one Opus packet, from its TOC (RFC 6716 3.1); 0 for a packet that cannot be one. */
export function opusPacketDuration(p: Buffer): number {
  if (p.length < 1) return 0;
  const toc = p[0]!;
  const config = toc >> 3;
  const frame = config < 12 ? [480, 960, 1920, 2880][config & 3]! : config < 16 ? (config & 1 ? 960 : 480) : [120, 240, 480, 960][config & 3]!;
  const code = toc & 3;
  if (code === 0) return frame;
  if (code !== 3) return 2 * frame;
  return p.length < 2 ? 0 : frame * (p[1]! & 0x3f);
}
