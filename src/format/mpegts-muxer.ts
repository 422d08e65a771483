/**
 * MPEG-TS muxer for HLS segments and HTTP-TS: one small state machine per
 * stream (continuity counters, codec config), sans-IO. Each frame becomes one
 * PES written straight into one exactly sized Buffer of 188-byte packets: the
 * payload pieces (start codes, parameter sets, NAL units as subarrays of the
 * frame) are copied once, into their final place.
 *
 * Video: H.264/H.265 in Annex-B with an access unit delimiter first and the
 * parameter sets before every IDR/IRAP. Audio: AAC in ADTS, MP3 as is,
 * Opus as a private PES with control headers (mpegts-opus.ts).
 * PCR rides on the video PID (audio PID for audio-only streams).
 */
import type { MediaFrame } from '../codec/media-frame.js';
import { parseAvcDecoderConfig } from '../codec/h264.js';
import { parseHevcDecoderConfig } from '../codec/hevc.js';
import { parseAudioSpecificConfig, writeAdtsHeader, ADTS_HEADER_SIZE } from '../codec/aac.js';
import { CodecError } from '../codec/codec-error.js';
import { parseOpusHead } from '../codec/opus.js';
import { opusControlHeader, opusEsInfo } from './mpegts-opus.js';
import {
  TS_PACKET_SIZE,
  TS_PID_AUDIO,
  TS_PID_PAT,
  TS_PID_PMT,
  TS_PID_VIDEO,
  TsError,
  TsStreamType,
  crc32Mpeg2,
} from './mpegts-common.js';

export type TsVideoCodec = 'H264' | 'HEVC';
export type TsAudioCodec = 'AAC' | 'MP3' | 'Opus';

export interface TsMuxerOptions {
  /** The codecs announced in the PMT before the sequence headers arrive (SRS's hls_vcodec / hls_acodec). */
  video?: TsVideoCodec | null;
  audio?: TsAudioCodec | null;
}

const TWO_POW_33 = 8589934592;
const START_CODE = Buffer.from([0, 0, 0, 1]);
const H264_AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
const HEVC_AUD = Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50]);
const STREAM_ID_VIDEO = 0xe0;
const STREAM_ID_AUDIO = 0xc0;
/** private_stream_1, where FFmpeg puts Opus. */
const STREAM_ID_PRIVATE_1 = 0xbd;
/** 1 (length) + 1 (flags) + 6 (PCR). */
const AF_PCR_SIZE = 8;
/** 1 (length) + 1 (flags, random access indicator). */
const AF_FLAGS_SIZE = 2;

/** ms → 90 kHz, wrapped into 33 bits. */
export function msTo90k(ms: number): number {
  const v = Math.round(ms * 90) % TWO_POW_33;
  return v < 0 ? v + TWO_POW_33 : v;
}

export class TsMuxer {
  video: TsVideoCodec | null;
  audio: TsAudioCodec | null;
  private ccPat = 0;
  private ccPmt = 0;
  private ccVideo = 0;
  private ccAudio = 0;
  private pmtVersion = 0;
  private lengthSize = 4;
  /** Parameter sets (VPS/SPS/PPS) as Annex-B pieces: start code, NAL, start code, NAL... */
  private paramPieces: Buffer[] = [];
  private adts: { objectType: number; samplingIndex: number; channelConfig: number } | null = null;
  /** Opus channels from the OpusHead; 0 until it came. */
  private opusChannels = 0;
  /** Reused between calls: the pieces of the PES being written, and the PES header. */
  private readonly pieces: Buffer[] = [];
  private readonly pesHeader = Buffer.alloc(19);
  private readonly adtsHeader = Buffer.alloc(ADTS_HEADER_SIZE);

  constructor(options: TsMuxerOptions = {}) {
    this.video = options.video ?? null;
    this.audio = options.audio ?? null;
  }

  /** True once the muxer can write video frames (codec config known). */
  get videoReady(): boolean {
    return this.video !== null && this.paramPieces.length > 0;
  }

  get audioReady(): boolean {
    return this.audio === 'MP3' || (this.audio === 'AAC' && this.adts !== null) || (this.audio === 'Opus' && this.opusChannels > 0);
  }

  /** Takes an AVC/HEVC decoder configuration record. Throws TsError on a bad record. */
  setVideoConfig(codec: TsVideoCodec, record: Buffer): void {
    const pieces: Buffer[] = [];
    try {
      if (codec === 'H264') {
        const c = parseAvcDecoderConfig(record);
        this.lengthSize = c.lengthSizeMinusOne + 1;
        for (const n of [...c.sps, ...c.pps]) pieces.push(START_CODE, n);
      } else {
        const c = parseHevcDecoderConfig(record);
        this.lengthSize = c.lengthSizeMinusOne + 1;
        for (const a of c.arrays) if (a.nalType >= 32 && a.nalType <= 34) for (const n of a.units) pieces.push(START_CODE, n);
      }
    } catch (err) {
      throw asTsError(err, `${codec} config`);
    }
    if (this.video !== codec) this.pmtVersion = (this.pmtVersion + 1) & 31;
    this.video = codec;
    this.paramPieces = pieces;
  }

  /** Takes the audio codec and, for AAC, the AudioSpecificConfig (for Opus, the OpusHead). */
  setAudioConfig(codec: TsAudioCodec, asc: Buffer | null): void {
    if (codec === 'Opus') {
      if (!asc) throw new TsError('Opus needs an OpusHead');
      try {
        this.opusChannels = Math.min(8, parseOpusHead(asc).channels);
      } catch (err) {
        throw asTsError(err, 'OpusHead');
      }
    }
    if (codec === 'AAC') {
      if (!asc) throw new TsError('AAC needs an AudioSpecificConfig');
      try {
        const c = parseAudioSpecificConfig(asc);
        this.adts = { objectType: c.objectType, samplingIndex: c.samplingIndex, channelConfig: c.channelConfig };
      } catch (err) {
        throw asTsError(err, 'AAC config');
      }
    }
    if (this.audio !== codec) this.pmtVersion = (this.pmtVersion + 1) & 31;
    this.audio = codec;
  }

  /**
   * The whole frame as TS packets: header frames update the config and give
   * PAT+PMT, media frames give one PES (PAT+PMT first for video keyframes),
   * script data and unsupported codecs give null.
   */
  muxFrame(frame: MediaFrame): Buffer | null {
    if (frame.kind === 'video') {
      if (frame.codec !== 'H264' && frame.codec !== 'HEVC') return null;
      if (frame.header) {
        this.setVideoConfig(frame.codec, frame.payload);
        return this.tables();
      }
      if (!this.videoReady || this.video !== frame.codec) return null;
      return this.muxVideo(frame.dts, frame.pts, frame.keyframe, frame.payload, frame.keyframe);
    }
    if (frame.kind === 'audio') {
      if (frame.codec !== 'AAC' && frame.codec !== 'MP3' && frame.codec !== 'Opus') return null;
      if (frame.header) {
        this.setAudioConfig(frame.codec, frame.payload);
        return this.tables();
      }
      if (frame.codec === 'MP3' && this.audio !== 'MP3') this.setAudioConfig('MP3', null);
      if (!this.audioReady || this.audio !== frame.codec) return null;
      return this.muxAudio(frame.dts, frame.payload);
    }
    return null;
  }

  /** PAT + PMT: two packets. */
  tables(): Buffer {
    const out = Buffer.allocUnsafe(TS_PACKET_SIZE * 2);
    this.writePat(out, 0);
    this.writePmt(out, TS_PACKET_SIZE);
    return out;
  }

  /** One video access unit (length-prefixed NAL units) as a PES in TS packets. */
  muxVideo(dtsMs: number, ptsMs: number, keyframe: boolean, payload: Buffer, withTables: boolean): Buffer {
    if (!this.video) throw new TsError('video frame before the video config');
    const pieces = this.pieces;
    pieces.length = 0;
    const hevc = this.video === 'HEVC';
    pieces.push(hevc ? HEVC_AUD : H264_AUD);
    let payloadLen = pieces[0]!.length;
    const ls = this.lengthSize;
    let hasParams = false;
    // First pass: validate lengths and see whether the frame carries its own parameter sets.
    let off = 0;
    while (off < payload.length) {
      const len = readLength(payload, off, ls);
      const t = hevc ? (payload[off + ls]! >>> 1) & 0x3f : payload[off + ls]! & 0x1f;
      if (len > 0 && (hevc ? t === 33 : t === 7)) hasParams = true;
      off += ls + len;
    }
    if (keyframe && !hasParams) {
      for (const p of this.paramPieces) {
        pieces.push(p);
        payloadLen += p.length;
      }
    }
    off = 0;
    while (off < payload.length) {
      const len = readLength(payload, off, ls);
      off += ls;
      if (len > 0) {
        const t = hevc ? (payload[off]! >>> 1) & 0x3f : payload[off]! & 0x1f;
        if (!(hevc ? t === 35 : t === 9)) {
          pieces.push(START_CODE, payload.subarray(off, off + len));
          payloadLen += 4 + len;
        }
      }
      off += len;
    }
    const dts = msTo90k(dtsMs);
    const pts = msTo90k(ptsMs);
    return this.writeFrame(TS_PID_VIDEO, STREAM_ID_VIDEO, pts, dts, payloadLen, dts, keyframe, withTables, true);
  }

  /** One audio frame (raw AAC, an MP3 frame or an Opus packet) as a PES in TS packets. */
  muxAudio(dtsMs: number, payload: Buffer): Buffer {
    const pieces = this.pieces;
    pieces.length = 0;
    let payloadLen = payload.length;
    if (this.audio === 'AAC') {
      const a = this.adts;
      if (!a) throw new TsError('AAC frame before the AudioSpecificConfig');
      try {
        writeAdtsHeader(this.adtsHeader, 0, a.objectType, a.samplingIndex, a.channelConfig, payload.length);
      } catch (err) {
        throw asTsError(err, 'ADTS');
      }
      pieces.push(this.adtsHeader);
      payloadLen += ADTS_HEADER_SIZE;
    } else if (this.audio === 'Opus') {
      if (this.opusChannels === 0) throw new TsError('Opus packet before the OpusHead');
      const h = opusControlHeader(payload.length);
      pieces.push(h);
      payloadLen += h.length;
    } else if (this.audio !== 'MP3') throw new TsError('audio frame before the audio config');
    pieces.push(payload);
    const t = msTo90k(dtsMs);
    const pcr = this.video === null ? t : -1;
    const streamId = this.audio === 'Opus' ? STREAM_ID_PRIVATE_1 : STREAM_ID_AUDIO;
    return this.writeFrame(TS_PID_AUDIO, streamId, t, -1, payloadLen, pcr, false, false, false);
  }

  /**
   * Writes [PAT PMT] PES packets into one new Buffer. `dts` -1 = PTS only;
   * `pcr` -1 = none.
   */
  private writeFrame(
    pid: number,
    streamId: number,
    pts: number,
    dts: number,
    payloadLen: number,
    pcr: number,
    rai: boolean,
    withTables: boolean,
    video: boolean,
  ): Buffer {
    const withDts = dts >= 0 && dts !== pts;
    const hdrDataLen = withDts ? 10 : 5;
    const h = this.pesHeader;
    h[0] = 0;
    h[1] = 0;
    h[2] = 1;
    h[3] = streamId;
    const pesLen = 3 + hdrDataLen + payloadLen;
    h.writeUInt16BE(video || pesLen > 0xffff ? 0 : pesLen, 4);
    h[6] = 0x84; // marker '10', data_alignment_indicator
    h[7] = withDts ? 0xc0 : 0x80;
    h[8] = hdrDataLen;
    writeTimestamp(h, 9, withDts ? 3 : 2, pts);
    if (withDts) writeTimestamp(h, 14, 1, dts);
    const hdrLen = 9 + hdrDataLen;
    const total = hdrLen + payloadLen;
    const firstAf = pcr >= 0 ? AF_PCR_SIZE : rai ? AF_FLAGS_SIZE : 0;
    const firstCap = 184 - firstAf;
    const nPackets = total <= firstCap ? 1 : 1 + Math.ceil((total - firstCap) / 184);
    const tablePackets = withTables ? 2 : 0;
    const out = Buffer.allocUnsafe((tablePackets + nPackets) * TS_PACKET_SIZE);
    let o = 0;
    if (withTables) {
      this.writePat(out, 0);
      this.writePmt(out, TS_PACKET_SIZE);
      o = 2 * TS_PACKET_SIZE;
    }
    // The PES header is the first piece.
    const pieces = this.pieces;
    pieces.unshift(h.subarray(0, hdrLen));
    let pi = 0;
    let po = 0;
    let left = total;
    for (let i = 0; i < nPackets; i++) {
      const first = i === 0;
      const af0 = first ? firstAf : 0;
      const cap = 184 - af0;
      const afTotal = left < cap ? af0 + (cap - left) : af0;
      const cc = pid === TS_PID_VIDEO ? this.ccVideo++ & 15 : this.ccAudio++ & 15;
      out[o] = 0x47;
      out[o + 1] = (first ? 0x40 : 0) | (pid >>> 8);
      out[o + 2] = pid & 0xff;
      out[o + 3] = (afTotal > 0 ? 0x30 : 0x10) | cc;
      let p = o + 4;
      if (afTotal > 0) {
        out[p] = afTotal - 1;
        if (afTotal > 1) {
          let flags = 0;
          if (first && rai) flags |= 0x40;
          if (first && pcr >= 0) flags |= 0x10;
          out[p + 1] = flags;
          let q = p + 2;
          if (first && pcr >= 0) {
            writePcr(out, q, pcr);
            q += 6;
          }
          out.fill(0xff, q, p + afTotal);
        }
        p += afTotal;
      }
      // Copy this packet's share of the payload from the pieces.
      let need = o + TS_PACKET_SIZE - p;
      left -= need;
      while (need > 0) {
        const piece = pieces[pi]!;
        const n = Math.min(need, piece.length - po);
        piece.copy(out, p, po, po + n);
        p += n;
        po += n;
        need -= n;
        if (po === piece.length) {
          pi++;
          po = 0;
        }
      }
      o += TS_PACKET_SIZE;
    }
    this.ccVideo &= 15;
    this.ccAudio &= 15;
    pieces.length = 0;
    return out;
  }

  private writePat(out: Buffer, o: number): void {
    writePsiHeader(out, o, TS_PID_PAT, this.ccPat);
    this.ccPat = (this.ccPat + 1) & 15;
    const s = o + 5;
    out[s] = 0x00; // table_id
    const sectionLength = 5 + 4 + 4;
    out[s + 1] = 0xb0 | (sectionLength >>> 8);
    out[s + 2] = sectionLength & 0xff;
    out.writeUInt16BE(1, s + 3); // transport_stream_id
    out[s + 5] = 0xc1;
    out[s + 6] = 0;
    out[s + 7] = 0;
    out.writeUInt16BE(1, s + 8); // program_number
    out.writeUInt16BE(0xe000 | TS_PID_PMT, s + 10);
    out.writeUInt32BE(crc32Mpeg2(out, s, s + 12), s + 12);
    out.fill(0xff, s + 16, o + TS_PACKET_SIZE);
  }

  private writePmt(out: Buffer, o: number): void {
    writePsiHeader(out, o, TS_PID_PMT, this.ccPmt);
    this.ccPmt = (this.ccPmt + 1) & 15;
    const s = o + 5;
    const streams: [number, number, Buffer | null][] = [];
    if (this.video) streams.push([this.video === 'H264' ? TsStreamType.H264 : TsStreamType.HEVC, TS_PID_VIDEO, null]);
    if (this.audio === 'Opus') streams.push([TsStreamType.PrivateData, TS_PID_AUDIO, opusEsInfo(this.opusChannels || 2)]);
    else if (this.audio) streams.push([this.audio === 'AAC' ? TsStreamType.AAC : TsStreamType.MP3, TS_PID_AUDIO, null]);
    let esBytes = 0;
    for (const [, , info] of streams) esBytes += 5 + (info?.length ?? 0);
    const sectionLength = 9 + esBytes + 4;
    out[s] = 0x02;
    out[s + 1] = 0xb0 | (sectionLength >>> 8);
    out[s + 2] = sectionLength & 0xff;
    out.writeUInt16BE(1, s + 3); // program_number
    out[s + 5] = 0xc1 | (this.pmtVersion << 1);
    out[s + 6] = 0;
    out[s + 7] = 0;
    out.writeUInt16BE(0xe000 | (this.video ? TS_PID_VIDEO : TS_PID_AUDIO), s + 8);
    out.writeUInt16BE(0xf000, s + 10); // program_info_length 0
    let q = s + 12;
    for (const [type, pid, info] of streams) {
      out[q] = type;
      out.writeUInt16BE(0xe000 | pid, q + 1);
      out.writeUInt16BE(0xf000 | (info?.length ?? 0), q + 3);
      q += 5;
      if (info) {
        info.copy(out, q);
        q += info.length;
      }
    }
    out.writeUInt32BE(crc32Mpeg2(out, s, q), q);
    out.fill(0xff, q + 4, o + TS_PACKET_SIZE);
  }
}

function writePsiHeader(out: Buffer, o: number, pid: number, cc: number): void {
  out[o] = 0x47;
  out[o + 1] = 0x40 | (pid >>> 8);
  out[o + 2] = pid & 0xff;
  out[o + 3] = 0x10 | cc;
  out[o + 4] = 0; // pointer_field
}

function readLength(data: Buffer, off: number, ls: number): number {
  if (off + ls > data.length) throw new TsError(`NAL length prefix truncated at offset ${off}`);
  let len = 0;
  for (let i = 0; i < ls; i++) len = len * 256 + data[off + i]!;
  if (off + ls + len > data.length) throw new TsError(`NAL unit of ${len} bytes at offset ${off} overruns the ${data.length}-byte frame`);
  return len;
}

/** PTS/DTS: 4-bit prefix, 33 bits with marker bits. */
function writeTimestamp(b: Buffer, o: number, prefix: number, v: number): void {
  const hi = Math.floor(v / 1073741824) & 7; // bits 32..30
  const lo = v % 1073741824;
  b[o] = (prefix << 4) | (hi << 1) | 1;
  b[o + 1] = (lo >>> 22) & 0xff;
  b[o + 2] = (((lo >>> 15) & 0x7f) << 1) | 1;
  b[o + 3] = (lo >>> 7) & 0xff;
  b[o + 4] = ((lo & 0x7f) << 1) | 1;
}

function writePcr(b: Buffer, o: number, base: number): void {
  b[o] = Math.floor(base / 33554432) & 0xff;
  b[o + 1] = Math.floor(base / 131072) & 0xff;
  b[o + 2] = Math.floor(base / 512) & 0xff;
  b[o + 3] = Math.floor(base / 2) & 0xff;
  b[o + 4] = ((base & 1) << 7) | 0x7e;
  b[o + 5] = 0;
}

function asTsError(err: unknown, what: string): TsError {
  if (err instanceof TsError) return err;
  if (err instanceof CodecError) return new TsError(`${what}: ${err.message}`);
  throw err;
}
