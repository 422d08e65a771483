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
