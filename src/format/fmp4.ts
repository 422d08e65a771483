/**
 * Fragmented MP4 (ISO/IEC 14496-12, CMAF-style) writer for LL-HLS and DASH:
 * an init segment (ftyp + moov with one trak per track and mvex) and media
 * fragments (moof + mdat, one traf per track). Sans-IO and allocation-light:
 * a fragment is measured first, then written into one Buffer.
 */
import { parseAudioSpecificConfig } from '../codec/aac.js';
import { CodecError } from '../codec/codec-error.js';
import { parseAvcDecoderConfig } from '../codec/h264.js';
import { parseHevcDecoderConfig } from '../codec/hevc.js';

export class Mp4Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Mp4Error';
  }
}

export type Fmp4Codec = 'H264' | 'HEVC' | 'AAC' | 'MP3';

export interface Fmp4Track {
  /** track_ID, from 1. */
  id: number;
  kind: 'video' | 'audio';
  codec: Fmp4Codec;
  /** Ticks per second of this track's timestamps. */
  timescale: number;
  /** avcC / hvcC record, AudioSpecificConfig; empty for MP3. */
  config: Buffer;
  width: number;
  height: number;
  sampleRate: number;
  channels: number;
}

export interface Fmp4Sample {
  /** Ticks. */
  duration: number;
  /** Composition offset (pts - dts) in ticks. */
  cts: number;
  keyframe: boolean;
  /** Sample bytes as stored in mp4 (length-prefixed NAL units, raw AAC/MP3). */
  data: Buffer;
}

export interface Fmp4Run {
  track: Fmp4Track;
  /** Decode time of the first sample, in ticks. */
  baseDecodeTime: number;
  samples: Fmp4Sample[];
}

const MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

/** A box from its type and already serialized children/fields. */
function box(type: string, ...parts: Buffer[]): Buffer {
  let size = 8;
  for (const p of parts) size += p.length;
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...parts], size);
}

function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  const vf = Buffer.allocUnsafe(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...parts);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

function matrix(): Buffer {
  return u32s(...MATRIX);
}

/** ftyp + moov for the given tracks. Throws Mp4Error on a bad codec config. */
export function fmp4InitSegment(tracks: readonly Fmp4Track[]): Buffer {
  if (tracks.length === 0) throw new Mp4Error('an init segment needs at least one track');
  const ftyp = box('ftyp', Buffer.from('iso6', 'latin1'), u32s(0), Buffer.from('iso6cmfcisommp41dash', 'latin1'));
  const mvhdBody = Buffer.alloc(96);
  mvhdBody.writeUInt32BE(1000, 8); // timescale
  mvhdBody.writeUInt32BE(0x00010000, 16); // rate
  mvhdBody.writeUInt16BE(0x0100, 20); // volume
  matrix().copy(mvhdBody, 32);
  mvhdBody.writeUInt32BE(Math.max(...tracks.map((t) => t.id)) + 1, 92); // next_track_ID
  const mvhd = fullBox('mvhd', 0, 0, mvhdBody);
  const traks = tracks.map(trak);
  const mvex = box('mvex', ...tracks.map((t) => fullBox('trex', 0, 0, u32s(t.id, 1, 0, 0, 0))));
  return Buffer.concat([ftyp, box('moov', mvhd, ...traks, mvex)]);
}

function trak(t: Fmp4Track): Buffer {
  const video = t.kind === 'video';
  const tkhdBody = Buffer.alloc(80);
  tkhdBody.writeUInt32BE(t.id, 8);
  tkhdBody.writeUInt16BE(video ? 0 : 0x0100, 32); // volume
  matrix().copy(tkhdBody, 36);
  tkhdBody.writeUInt32BE((t.width & 0xffff) * 65536, 72);
  tkhdBody.writeUInt32BE((t.height & 0xffff) * 65536, 76);
  const tkhd = fullBox('tkhd', 0, 3, tkhdBody);
  const mdhdBody = Buffer.alloc(20);
  mdhdBody.writeUInt32BE(t.timescale, 8);
  mdhdBody.writeUInt16BE(0x55c4, 16); // 'und'
  const mdhd = fullBox('mdhd', 0, 0, mdhdBody);
  const hdlrBody = Buffer.alloc(20 + 1);
  hdlrBody.write(video ? 'vide' : 'soun', 4, 'latin1');
  const hdlr = fullBox('hdlr', 0, 0, hdlrBody);
  const mhd = video ? fullBox('vmhd', 0, 1, Buffer.alloc(8)) : fullBox('smhd', 0, 0, Buffer.alloc(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32s(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32s(1), sampleEntry(t)),
    fullBox('stts', 0, 0, u32s(0)),
    fullBox('stsc', 0, 0, u32s(0)),
    fullBox('stsz', 0, 0, u32s(0, 0)),
    fullBox('stco', 0, 0, u32s(0)),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', mhd, dinf, stbl)));
}

function sampleEntry(t: Fmp4Track): Buffer {
  switch (t.codec) {
    case 'H264':
    case 'HEVC': {
      const b = Buffer.alloc(78);
      b.writeUInt16BE(1, 6); // data_reference_index
      b.writeUInt16BE(t.width, 24);
      b.writeUInt16BE(t.height, 26);
      b.writeUInt32BE(0x00480000, 28);
      b.writeUInt32BE(0x00480000, 32);
      b.writeUInt16BE(1, 40); // frame_count
      b.writeUInt16BE(0x0018, 74); // depth
      b.writeInt16BE(-1, 76);
      const h264 = t.codec === 'H264';
      return box(h264 ? 'avc1' : 'hvc1', b, box(h264 ? 'avcC' : 'hvcC', t.config));
    }
    case 'AAC':
    case 'MP3': {
      const b = Buffer.alloc(28);
      b.writeUInt16BE(1, 6);
      b.writeUInt16BE(t.channels || 2, 16);
      b.writeUInt16BE(16, 18);
      b.writeUInt32BE(((t.sampleRate & 0xffff) * 65536) >>> 0, 24);
      return box('mp4a', b, esds(t));
    }
  }
}

function descriptor(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  if (body.length > 0x0fffffff) throw new Mp4Error('descriptor too large');
  // Four-byte size form: always valid, simple.
  const head = Buffer.from([tag, 0x80 | ((body.length >>> 21) & 0x7f), 0x80 | ((body.length >>> 14) & 0x7f), 0x80 | ((body.length >>> 7) & 0x7f), body.length & 0x7f]);
  return Buffer.concat([head, body]);
}

function esds(t: Fmp4Track): Buffer {
  const aac = t.codec === 'AAC';
  const dcd = Buffer.alloc(13);
  dcd[0] = aac ? 0x40 : 0x6b; // objectTypeIndication
  dcd[1] = (0x05 << 2) | 1; // audio stream
  const dsi = aac ? [descriptor(0x05, t.config)] : [];
  const es = descriptor(0x03, Buffer.from([0, t.id & 0xff, 0]), descriptor(0x04, dcd, ...dsi), descriptor(0x06, Buffer.from([0x02])));
  return fullBox('esds', 0, 0, es);
}

const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;
const SAMPLE_FLAGS_SYNC = 0x02000000;
const SAMPLE_FLAGS_NON_SYNC = 0x01010000;

/**
 * One fragment: moof (mfhd + one traf per run) + mdat. `sequence` is the
 * mfhd sequence_number (increasing per fragment of a stream).
 */
export function fmp4Fragment(sequence: number, runs: readonly Fmp4Run[]): Buffer {
  let moofSize = 8 + 16; // moof + mfhd
  let mdatSize = 8;
  for (const r of runs) {
    moofSize += 8 + 16 + 20 + 20 + r.samples.length * 16; // traf, tfhd, tfdt v1, trun header
    for (const s of r.samples) mdatSize += s.data.length;
  }
  if (mdatSize > 0xffffffff) throw new Mp4Error('fragment larger than 4 GiB');
  const out = Buffer.allocUnsafe(moofSize + mdatSize);
  let o = 0;
  const head = (size: number, type: string): void => {
    out.writeUInt32BE(size, o);
    out.write(type, o + 4, 'latin1');
    o += 8;
  };
  head(moofSize, 'moof');
  head(16, 'mfhd');
  out.writeUInt32BE(0, o);
  out.writeUInt32BE(sequence >>> 0, o + 4);
  o += 8;
  let dataOffset = moofSize + 8;
  for (const r of runs) {
    const n = r.samples.length;
    head(8 + 16 + 20 + 20 + n * 16, 'traf');
    head(16, 'tfhd');
    out.writeUInt32BE(0x020000, o); // default-base-is-moof
    out.writeUInt32BE(r.track.id, o + 4);
    o += 8;
    head(20, 'tfdt');
    out.writeUInt32BE(0x01000000, o);
    const base = Math.max(0, Math.round(r.baseDecodeTime));
    out.writeUInt32BE(Math.floor(base / 4294967296), o + 4);
    out.writeUInt32BE(base % 4294967296, o + 8);
    o += 12;
    head(20 + n * 16, 'trun');
    out.writeUInt32BE(0x01000000 | TRUN_FLAGS, o); // version 1: signed cts
    out.writeUInt32BE(n, o + 4);
    out.writeInt32BE(dataOffset, o + 8);
    o += 12;
    for (const s of r.samples) {
      out.writeUInt32BE(Math.max(0, Math.round(s.duration)) >>> 0, o);
      out.writeUInt32BE(s.data.length, o + 4);
      out.writeUInt32BE(r.track.kind === 'audio' || s.keyframe ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC, o + 8);
      out.writeInt32BE(Math.round(s.cts) | 0, o + 12);
      o += 16;
      dataOffset += s.data.length;
    }
  }
  head(mdatSize, 'mdat');
  for (const r of runs) for (const s of r.samples) o += s.data.copy(out, o);
  return out;
}

/** RFC 6381 codec string for HLS CODECS / DASH @codecs. */
export function rfc6381Codec(codec: Fmp4Codec, config: Buffer): string {
  try {
    switch (codec) {
      case 'H264': {
        const c = parseAvcDecoderConfig(config);
        return `avc1.${hex2(c.profileIdc)}${hex2(c.profileCompatibility)}${hex2(c.levelIdc)}`;
      }
      case 'HEVC': {
        const c = parseHevcDecoderConfig(config);
        const space = ['', 'A', 'B', 'C'][c.profileSpace] ?? '';
        let compat = 0;
        for (let i = 0; i < 32; i++) if (c.profileCompatibilityFlags & (1 << i)) compat |= 1 << (31 - i);
        const constraints: string[] = [];
        const bytes = config.subarray(6, 12);
        let last = bytes.length;
        while (last > 0 && bytes[last - 1] === 0) last--;
        for (let i = 0; i < last; i++) constraints.push(bytes[i]!.toString(16).toUpperCase());
        const tail = constraints.length ? `.${constraints.join('.')}` : '';
        return `hvc1.${space}${c.profileIdc}.${(compat >>> 0).toString(16).toUpperCase()}.${c.tierFlag ? 'H' : 'L'}${c.levelIdc}${tail}`;
      }
      case 'AAC':
        return `mp4a.40.${parseAudioSpecificConfig(config).objectType}`;
      case 'MP3':
        return 'mp4a.40.34';
    }
  } catch (err) {
    if (err instanceof CodecError) throw new Mp4Error(`${codec} config: ${err.message}`);
    throw err;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
