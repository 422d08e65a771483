/**
 * The byte forms of the live remux outputs, serialized once per frame per
 * format and shared by every player of that format (the frame's wire slots;
 * the MPEG-TS muxer state is one per source).
 *
 * - TS: PAT/PMT for sequence headers, one PES per frame (video keyframes
 *   repeat PAT/PMT, so a player may start at any GOP).
 * - AAC: ADTS frames; MP3: the MPEG audio frames as they are.
 * - FLV: the tags HTTP-FLV uses (for WebSocket-FLV).
 */
import type { MediaFrame } from '../../codec/media-frame.js';
import { WireFormat } from '../../codec/wire-format.js';
import type { LiveSource } from '../../live/live-source.js';
import { TsMuxer } from '../../format/mpegts-muxer.js';
import { TsError } from '../../format/mpegts-common.js';
import { flvTagOf, encodeFlvHeader } from '../../format/flv.js';
import { ADTS_HEADER_SIZE, parseAudioSpecificConfig, writeAdtsHeader } from '../../codec/aac.js';
import { CodecError } from '../../codec/codec-error.js';

export type RemuxFormat = 'ts' | 'aac' | 'mp3' | 'flv';

export const REMUX_CONTENT_TYPES: Record<RemuxFormat, string> = {
  ts: 'video/MP2T',
  aac: 'audio/x-aac',
  mp3: 'audio/mpeg',
  flv: 'video/x-flv',
};

const EMPTY = Buffer.alloc(0);

export interface RemuxEncoder {
  /** Bytes a player gets first (the FLV file header), or null. */
  start(): Buffer | null;
  /** The frame's bytes; empty when this format does not carry it. */
  encode(f: MediaFrame): Buffer;
}

const tsMuxers = new WeakMap<LiveSource, TsMuxer>();
/** A frame's TS packets from its source's muxer (empty when the muxer emits nothing for it). */
const TS_PACKETS = new WireFormat<Buffer>('mpegts');
const adtsConfigs = new WeakMap<LiveSource, { objectType: number; samplingIndex: number; channelConfig: number }>();
/** An AAC frame with its ADTS header. */
const ADTS_FRAME = new WireFormat<Buffer>('adts');

function tsEncoder(source: LiveSource): RemuxEncoder {
  return {
    start: () => null,
    encode(f) {
      const cached = f.wire(TS_PACKETS);
      if (cached !== undefined) return cached;
      let m = tsMuxers.get(source);
      if (!m) tsMuxers.set(source, (m = new TsMuxer()));
      let b: Buffer;
      try {
        b = m.muxFrame(f) ?? EMPTY;
      } catch (err) {
        if (!(err instanceof TsError)) throw err;
        b = EMPTY;
      }
      return f.setWire(TS_PACKETS, b);
    },
  };
}

function aacEncoder(source: LiveSource): RemuxEncoder {
  return {
    start: () => null,
    encode(f) {
      if (f.kind !== 'audio' || f.codec !== 'AAC') return EMPTY;
      if (f.header) {
        try {
          const c = parseAudioSpecificConfig(f.payload);
          adtsConfigs.set(source, { objectType: c.objectType, samplingIndex: c.samplingIndex, channelConfig: c.channelConfig });
        } catch (err) {
          if (!(err instanceof CodecError)) throw err;
        }
        return EMPTY;
      }
      const cached = f.wire(ADTS_FRAME);
      if (cached !== undefined) return cached;
      const c = adtsConfigs.get(source);
      if (!c) return EMPTY;
      const out = Buffer.allocUnsafe(ADTS_HEADER_SIZE + f.payload.length);
      try {
        writeAdtsHeader(out, 0, c.objectType, c.samplingIndex, c.channelConfig, f.payload.length);
      } catch (err) {
        if (!(err instanceof CodecError)) throw err;
        return EMPTY;
      }
      f.payload.copy(out, ADTS_HEADER_SIZE);
      return f.setWire(ADTS_FRAME, out);
    },
  };
}

const mp3Encoder: RemuxEncoder = {
  start: () => null,
  encode: (f) => (f.kind === 'audio' && f.codec === 'MP3' && !f.header ? f.payload : EMPTY),
};

function flvEncoder(source: LiveSource, hasAudio: boolean, hasVideo: boolean): RemuxEncoder {
  void source;
  return {
    start: () => encodeFlvHeader(hasAudio, hasVideo),
    encode: (f) => flvTagOf(f),
  };
}

export function remuxEncoder(format: RemuxFormat, source: LiveSource, flvHasAudio = true, flvHasVideo = true): RemuxEncoder {
  switch (format) {
    case 'ts':
      return tsEncoder(source);
    case 'aac':
      return aacEncoder(source);
    case 'mp3':
      return mp3Encoder;
    case 'flv':
      return flvEncoder(source, flvHasAudio, flvHasVideo);
  }
}
