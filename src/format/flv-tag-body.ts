/**
 * FLV tag bodies (= RTMP audio/video message payloads): legacy layout
 * (FLV spec 10, E.4.2/E.4.3) and Enhanced RTMP (veovera E-RTMP v1/v2:
 * ExHeader, FourCC, ModEx, Multitrack). Parsing returns subarrays, never copies.
 */
import type { AudioCodec, VideoCodec } from '../codec/media-frame.js';
import { FlvError } from './flv-error.js';

export const FlvTagType = { Audio: 8, Video: 9, Script: 18 } as const;

/** Legacy FLV video CodecID values. */
export const FlvVideoCodecId = {
  SorensonH263: 2,
  ScreenVideo: 3,
  VP6: 4,
  VP6Alpha: 5,
  ScreenVideo2: 6,
  AVC: 7,
  /** Not in Adobe's spec: the Chinese-CDN convention for HEVC in legacy FLV. */
  HEVC: 12,
} as const;

/** Legacy FLV audio SoundFormat values. */
const FlvSoundFormat = { MP3: 2, AAC: 10, MP3_8k: 14, ExHeader: 9 } as const;

const VideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
  MPEG2TSSequenceStart: 5,
  Multitrack: 6,
  ModEx: 7,
} as const;

const AudioPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  MultichannelConfig: 4,
  Multitrack: 5,
  ModEx: 7,
} as const;

const MultitrackType = { OneTrack: 0, ManyTracks: 1, ManyTracksManyCodecs: 2 } as const;

/** FourCCs as big-endian UI32, compared without allocating strings. */
export const FourCC = {
  avc1: 0x61766331,
  hvc1: 0x68766331,
  av01: 0x61763031,
  vp09: 0x76703039,
  vp08: 0x76703038,
  Opus: 0x4f707573,
  mp4a: 0x6d703461,
  mp3: 0x2e6d7033, // '.mp3'
} as const;

export interface FlvVideoBody {
  codec: VideoCodec;
  keyframe: boolean;
  /** A sequence header (decoder configuration record). */
  header: boolean;
  endOfSequence: boolean;
  /** Composition time offset in ms (pts - dts). */
  cts: number;
  /** Codec form: length-prefixed NALUs / config record / OBUs; a subarray of the body. */
  payload: Buffer;
}

export interface FlvAudioBody {
  codec: AudioCodec;
  /** AAC sequence header (AudioSpecificConfig) / enhanced SequenceStart. */
  header: boolean;
  payload: Buffer;
  /** Hz from the legacy header (5512/11025/22050/44100, 8000 for MP3-8k; AAC always says 44100); 48000 for Opus; 0 when unknown. */
  soundRate: number;
  /** 1 or 2 from the legacy header; 0 when the enhanced header does not say. */
  channels: number;
}

const FLV_SOUND_RATES = [5512, 11025, 22050, 44100];

function need(body: Buffer, end: number, what: string): void {
  if (end > body.length) throw new FlvError(`FLV ${what}: body of ${body.length} bytes truncated (need ${end})`);
}

function readSI24(b: Buffer, off: number): number {
  const v = (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
  return v & 0x800000 ? v - 0x1000000 : v;
}

function videoCodecOfFourCC(fourcc: number): VideoCodec {
  switch (fourcc) {
    case FourCC.avc1:
      return 'H264';
    case FourCC.hvc1:
      return 'HEVC';
    case FourCC.av01:
      return 'AV1';
    case FourCC.vp09:
      return 'VP9';
    case FourCC.vp08:
      return 'VP8';
    default:
      return 'Other';
  }
}

function audioCodecOfFourCC(fourcc: number): AudioCodec {
  switch (fourcc) {
    case FourCC.mp4a:
      return 'AAC';
    case FourCC.Opus:
      return 'Opus';
    case FourCC.mp3:
      return 'MP3';
    default:
      return 'Other';
  }
}

/**
 * Skips E-RTMP v2 ModEx prefixes starting at off (where the packet type was
 * ModEx). Returns the offset after them; the real packet type is in the low
 * nibble of the byte before that offset. TimestampOffsetNano (sub-ms) is ignored.
 */
function skipModEx(body: Buffer, off: number, what: string): number {
  for (let guard = 0; guard < 16; guard++) {
    need(body, off + 1, what);
    let size = body[off]! + 1;
    off += 1;
    if (size === 256) {
      need(body, off + 2, what);
      size = body.readUInt16BE(off) + 1;
      off += 2;
    }
    need(body, off + size + 1, what);
    off += size;
    const next = body[off]! & 0x0f;
    off += 1;
    if (next !== 7) return off;
  }
  throw new FlvError(`FLV ${what}: too many ModEx prefixes`);
}

/**
 * Positions at the single track to use: after ModEx and Multitrack prefixes.
 * For multitrack bodies only the first track is taken (a MediaFrame is one track).
 */
interface ExCursor {
  packetType: number;
  fourcc: number;
  off: number;
  end: number;
}

function exCursor(body: Buffer, packetType: number, modEx: number, multitrack: number, what: string): ExCursor {
  let off = 1;
  if (packetType === modEx) {
    off = skipModEx(body, off, what);
    packetType = body[off - 1]! & 0x0f;
  }
  let end = body.length;
  let fourcc: number;
  if (packetType === multitrack) {
    need(body, off + 1, what);
    const mtType = body[off]! >>> 4;
    packetType = body[off]! & 0x0f;
    off += 1;
    if (mtType > MultitrackType.ManyTracksManyCodecs) throw new FlvError(`FLV ${what}: bad multitrack type ${mtType}`);
    if (packetType === multitrack || packetType === modEx) throw new FlvError(`FLV ${what}: nested multitrack`);
    // The shared FourCC (one codec) and the first track's own FourCC (many codecs) sit at the same place.
    need(body, off + 4, what);
    fourcc = body.readUInt32BE(off);
    off += 4;
    need(body, off + 1, what);
    off += 1; // trackId
    if (mtType !== MultitrackType.OneTrack) {
      need(body, off + 3, what);
      const size = body.readUIntBE(off, 3);
      off += 3;
      need(body, off + size, what);
      end = off + size;
    }
  } else {
    need(body, off + 4, what);
    fourcc = body.readUInt32BE(off);
    off += 4;
  }
  return { packetType, fourcc, off, end };
}

/**
 * Parses a video tag body. Returns null for bodies that carry no frame:
 * empty bodies, video info/command frames, E-RTMP Metadata and
 * MPEG2TSSequenceStart packets. Throws FlvError on truncated or invalid bodies.
 */
export function parseFlvVideoBody(body: Buffer): FlvVideoBody | null {
  if (body.length === 0) return null;
  const b0 = body[0]!;
  if (b0 & 0x80) return parseExVideo(body, b0);
  const frameType = b0 >>> 4;
  if (frameType === 5) return null; // video info / command frame
  const codecId = b0 & 0x0f;
  const keyframe = frameType === 1 || frameType === 4;
  if (codecId === FlvVideoCodecId.AVC || codecId === FlvVideoCodecId.HEVC) {
    need(body, 5, 'video');
    const pt = body[1]!;
    if (pt > 2) throw new FlvError(`FLV video: bad AVC/HEVC packet type ${pt}`);
    return {
      codec: codecId === FlvVideoCodecId.AVC ? 'H264' : 'HEVC',
      keyframe,
      header: pt === 0,
      endOfSequence: pt === 2,
      cts: pt === 1 ? readSI24(body, 2) : 0,
      payload: body.subarray(5),
    };
  }
  const codec: VideoCodec = codecId === FlvVideoCodecId.VP6 || codecId === FlvVideoCodecId.VP6Alpha ? 'VP6' : 'Other';
  return { codec, keyframe, header: false, endOfSequence: false, cts: 0, payload: body.subarray(1) };
}

function parseExVideo(body: Buffer, b0: number): FlvVideoBody | null {
  const frameType = (b0 >>> 4) & 7;
  const c = exCursor(body, b0 & 0x0f, VideoPacketType.ModEx, VideoPacketType.Multitrack, 'enhanced video');
  const pt = c.packetType;
  if (pt === VideoPacketType.Metadata || pt === VideoPacketType.MPEG2TSSequenceStart) return null;
  if (frameType === 5) return null; // command frame (a UI8 VideoCommand follows)
  const codec = videoCodecOfFourCC(c.fourcc);
  const keyframe = frameType === 1 || frameType === 4;
  switch (pt) {
    case VideoPacketType.SequenceStart:
      return { codec, keyframe, header: true, endOfSequence: false, cts: 0, payload: body.subarray(c.off, c.end) };
    case VideoPacketType.CodedFrames: {
      let off = c.off;
      let cts = 0;
      // Only AVC and HEVC carry a composition time in CodedFrames.
      if (c.fourcc === FourCC.avc1 || c.fourcc === FourCC.hvc1) {
        need(body, off + 3, 'enhanced video');
        if (off + 3 > c.end) throw new FlvError('FLV enhanced video: track too short for composition time');
        cts = readSI24(body, off);
        off += 3;
      }
      return { codec, keyframe, header: false, endOfSequence: false, cts, payload: body.subarray(off, c.end) };
    }
    case VideoPacketType.CodedFramesX:
      return { codec, keyframe, header: false, endOfSequence: false, cts: 0, payload: body.subarray(c.off, c.end) };
    case VideoPacketType.SequenceEnd:
      return { codec, keyframe, header: false, endOfSequence: true, cts: 0, payload: body.subarray(c.off, c.off) };
    default:
      throw new FlvError(`FLV enhanced video: unknown packet type ${pt}`);
  }
}

/**
 * Parses an audio tag body. Returns null for empty bodies and for E-RTMP
 * SequenceEnd / MultichannelConfig packets. Throws FlvError on bad bodies.
 */
export function parseFlvAudioBody(body: Buffer): FlvAudioBody | null {
  if (body.length === 0) return null;
  const b0 = body[0]!;
  const format = b0 >>> 4;
  if (format === FlvSoundFormat.ExHeader) return parseExAudio(body, b0);
  const soundRate = format === FlvSoundFormat.MP3_8k ? 8000 : FLV_SOUND_RATES[(b0 >>> 2) & 3]!;
  const channels = (b0 & 1) + 1;
  if (format === FlvSoundFormat.AAC) {
    need(body, 2, 'audio');
    const pt = body[1]!;
    if (pt > 1) throw new FlvError(`FLV audio: bad AAC packet type ${pt}`);
    return { codec: 'AAC', header: pt === 0, payload: body.subarray(2), soundRate, channels };
  }
  const codec: AudioCodec = format === FlvSoundFormat.MP3 || format === FlvSoundFormat.MP3_8k ? 'MP3' : 'Other';
  return { codec, header: false, payload: body.subarray(1), soundRate, channels };
}

function parseExAudio(body: Buffer, b0: number): FlvAudioBody | null {
  const c = exCursor(body, b0 & 0x0f, AudioPacketType.ModEx, AudioPacketType.Multitrack, 'enhanced audio');
  const codec = audioCodecOfFourCC(c.fourcc);
  const soundRate = codec === 'Opus' ? 48000 : 0;
  switch (c.packetType) {
    case AudioPacketType.SequenceStart:
    case AudioPacketType.CodedFrames: {
      const header = c.packetType === AudioPacketType.SequenceStart;
      const payload = body.subarray(c.off, c.end);
      // OpusHead: channel count at byte 9.
      const channels = codec === 'Opus' && header && payload.length >= 19 ? payload[9]! : 0;
      return { codec, header, payload, soundRate, channels };
    }
    case AudioPacketType.SequenceEnd:
    case AudioPacketType.MultichannelConfig:
      return null;
    default:
      throw new FlvError(`FLV enhanced audio: unknown packet type ${c.packetType}`);
  }
}

/** Legacy AVC (or codec id 12 HEVC) video body: 5-byte header + payload. */
export function buildLegacyVideoBody(
  codecId: number,
  keyframe: boolean,
  header: boolean,
  cts: number,
  payload: Buffer,
): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = ((keyframe || header ? 1 : 2) << 4) | codecId;
  out[1] = header ? 0 : 1;
  out.writeIntBE(header ? 0 : clampSI24(cts), 2, 3);
  payload.copy(out, 5);
  return out;
}

/**
 * Enhanced-RTMP video body. Non-zero cts uses CodedFrames (AVC/HEVC only),
 * otherwise CodedFramesX saves the 3 zero bytes.
 */
export function buildExVideoBody(
  fourcc: number,
  keyframe: boolean,
  header: boolean,
  cts: number,
  payload: Buffer,
): Buffer {
  const withCts = !header && cts !== 0 && (fourcc === FourCC.avc1 || fourcc === FourCC.hvc1);
  // AV1/VP9 CodedFrames carry no composition time, so CodedFrames is the plain form for them.
  const pt = header
    ? VideoPacketType.SequenceStart
    : withCts || !(fourcc === FourCC.avc1 || fourcc === FourCC.hvc1)
      ? VideoPacketType.CodedFrames
      : VideoPacketType.CodedFramesX;
  const hl = 5 + (withCts ? 3 : 0);
  const out = Buffer.allocUnsafe(hl + payload.length);
  out[0] = 0x80 | ((keyframe || header ? 1 : 2) << 4) | pt;
  out.writeUInt32BE(fourcc, 1);
  if (withCts) out.writeIntBE(clampSI24(cts), 5, 3);
  payload.copy(out, hl);
  return out;
}

/** Legacy AAC body: 0xAF (AAC, 44 kHz, 16-bit, stereo: what the spec says AAC must signal) + packet type. */
export function buildAacBody(header: boolean, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + payload.length);
  out[0] = 0xaf;
  out[1] = header ? 0 : 1;
  payload.copy(out, 2);
  return out;
}

/** Legacy MP3 body; rate/channels from the MPEG header, mapped onto FLV's 4 rates. */
export function buildMp3Body(payload: Buffer, sampleRate: number, channels: number): Buffer {
  const out = Buffer.allocUnsafe(1 + payload.length);
  const is8k = sampleRate === 8000;
  const rateBits = sampleRate >= 44100 ? 3 : sampleRate >= 22050 ? 2 : sampleRate >= 11025 ? 1 : 0;
  out[0] = ((is8k ? FlvSoundFormat.MP3_8k : FlvSoundFormat.MP3) << 4) | (rateBits << 2) | 0x02 | (channels === 1 ? 0 : 1);
  payload.copy(out, 1);
  return out;
}

/** Enhanced audio body (SequenceStart / CodedFrames) with a FourCC. */
export function buildExAudioBody(fourcc: number, header: boolean, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = (FlvSoundFormat.ExHeader << 4) | (header ? AudioPacketType.SequenceStart : AudioPacketType.CodedFrames);
  out.writeUInt32BE(fourcc, 1);
  payload.copy(out, 5);
  return out;
}

function clampSI24(v: number): number {
  const n = Math.round(v);
  return n > 0x7fffff ? 0x7fffff : n < -0x800000 ? -0x800000 : n;
}

/** True if a script payload is `onMetaData` (AMF0 string marker, length 10, name). */
export function isOnMetaData(payload: Buffer): boolean {
  return (
    payload.length >= 13 &&
    payload[0] === 0x02 &&
    payload[1] === 0x00 &&
    payload[2] === 10 &&
    payload.toString('latin1', 3, 13) === 'onMetaData'
  );
}
