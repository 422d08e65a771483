/**
 * MPEG-TS PES → MediaFrames, for ingest over SRT (and UDP): H.264 Annex-B
 * access units become length-prefixed frames with an AVC sequence header
 * whenever the SPS/PPS change; AAC in ADTS becomes raw frames with an
 * AudioSpecificConfig header; MP3 passes as is. H.265 likewise, with an
 * HEVCDecoderConfigurationRecord built from VPS/SPS/PPS; Opus (private PES
 * registered 'Opus') loses its control headers and gets an OpusHead.
 * Timestamps are unwrapped (33 bits) and rebased so the first one is 0 ms.
 * Other stream types (SCTE-35, data) are ignored.
 */
import { MediaFrame } from '../codec/media-frame.js';
import { buildAudioSpecificConfig, parseAdtsHeader } from '../codec/aac.js';
import { buildAvcDecoderConfig } from '../codec/h264.js';
import { buildHevcDecoderConfig } from '../codec/hevc.js';
import { buildOpusHead, opusPacketDuration } from '../codec/opus.js';
import { CodecError } from '../codec/codec-error.js';
import { TsError, TsStreamType } from './mpegts-common.js';
import { OPUS_REGISTRATION, opusChannelsFromEsInfo, parseOpusTsPayload } from './mpegts-opus.js';
import type { TsPes } from './mpegts-demuxer.js';

const TWO_POW_33 = 8589934592;

/** Splits Annex-B bytes into NAL units (without start codes). */
function annexBNalUnits(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  let i = 0;
  while (i + 2 < b.length) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) {
      if (start >= 0) out.push(trimZeros(b.subarray(start, i)));
      i += 3;
      start = i;
    } else i++;
  }
  if (start >= 0 && start < b.length) out.push(b.subarray(start));
  return out.filter((n) => n.length > 0);
}

function trimZeros(n: Buffer): Buffer {
  let e = n.length;
  while (e > 0 && n[e - 1] === 0) e--;
  return n.subarray(0, e);
}

/** NAL units as one buffer of 4-byte length-prefixed units (`size` = their total with prefixes). */
function lengthPrefixed(nals: Buffer[], size: number): Buffer {
  const payload = Buffer.allocUnsafe(size);
  let o = 0;
  for (const n of nals) {
    payload.writeUInt32BE(n.length, o);
    n.copy(payload, o + 4);
    o += 4 + n.length;
  }
  return payload;
}

export class TsFrameReader {
  private base = -1;
  private lastRaw = -1;
  private unwrapped = 0;
  private sps: Buffer | null = null;
  private pps: Buffer | null = null;
  private asc: Buffer | null = null;
  /** The VPS/SPS/PPS of the current HEVC config record. */
  private hevcSets: Buffer[] | null = null;
  private opusHead: Buffer | null = null;
  ignoredPes = 0;

  /** The frames of one PES (headers first when they changed). */
  read(pes: TsPes): MediaFrame[] {
    if (pes.pts < 0) return [];
    const dts = this.toMs(pes.dts < 0 ? pes.pts : pes.dts);
    const pts = dts + Math.round(((pes.pts - (pes.dts < 0 ? pes.pts : pes.dts) + TWO_POW_33) % TWO_POW_33) / 90);
    switch (pes.streamType) {
      case TsStreamType.H264:
        return this.h264(pes.payload, dts, pts);
      case TsStreamType.HEVC:
        return this.hevc(pes.payload, dts, pts);
      case TsStreamType.PrivateData:
        if (pes.registration === OPUS_REGISTRATION) return this.opus(pes.payload, pes.esInfo, dts);
        this.ignoredPes++;
        return [];
      case TsStreamType.AAC:
        return this.aac(pes.payload, dts);
      case TsStreamType.MP3:
      case TsStreamType.MPEG2Audio:
        return [new MediaFrame('audio', 'MP3', dts, dts, false, false, Buffer.from(pes.payload), null)];
      default:
        this.ignoredPes++;
        return [];
    }
  }

  private toMs(ts90k: number): number {
    if (this.lastRaw < 0) {
      this.lastRaw = ts90k;
      this.unwrapped = 0;
      this.base = ts90k;
    } else {
      let d = ts90k - this.lastRaw;
      if (d > TWO_POW_33 / 2) d -= TWO_POW_33;
      else if (d < -TWO_POW_33 / 2) d += TWO_POW_33;
      this.unwrapped += d;
      this.lastRaw = ts90k;
    }
    return Math.round(this.unwrapped / 90);
  }

  private h264(data: Buffer, dts: number, pts: number): MediaFrame[] {
    const out: MediaFrame[] = [];
    const body: Buffer[] = [];
    let size = 0;
    let keyframe = false;
    let sps: Buffer | null = null;
    let pps: Buffer | null = null;
    for (const n of annexBNalUnits(data)) {
      const t = n[0]! & 0x1f;
      if (t === 7) sps = n;
      else if (t === 8) pps = n;
      else if (t === 9) continue;
      else {
        if (t === 5) keyframe = true;
        body.push(n);
        size += 4 + n.length;
      }
    }
    if (sps && pps && (!this.sps || !this.pps || !sps.equals(this.sps) || !pps.equals(this.pps))) {
      this.sps = Buffer.from(sps);
      this.pps = Buffer.from(pps);
      out.push(new MediaFrame('video', 'H264', dts, dts, true, true, buildAvcDecoderConfig(this.sps, this.pps), null));
    }
    if (!this.sps || size === 0) return out;
    out.push(new MediaFrame('video', 'H264', dts, pts, keyframe, false, lengthPrefixed(body, size), null));
    return out;
  }

  private hevc(data: Buffer, dts: number, pts: number): MediaFrame[] {
    const out: MediaFrame[] = [];
    const body: Buffer[] = [];
    let size = 0;
    let keyframe = false;
    const vps: Buffer[] = [];
    const sps: Buffer[] = [];
    const pps: Buffer[] = [];
    for (const n of annexBNalUnits(data)) {
      if (n.length < 2) continue;
      const t = (n[0]! >>> 1) & 0x3f;
      if (t === 32) vps.push(n);
      else if (t === 33) sps.push(n);
      else if (t === 34) pps.push(n);
      else if (t === 35 || t === 36 || t === 37) continue; // AUD, end of sequence/bitstream
      else {
        if (t >= 16 && t <= 23) keyframe = true;
        body.push(n);
        size += 4 + n.length;
      }
    }
    if (sps.length > 0 && pps.length > 0) {
      const sets = [...vps, ...sps, ...pps];
      const old = this.hevcSets;
      if (!old || old.length !== sets.length || sets.some((b, i) => !b.equals(old[i]!))) {
        let record: Buffer;
        try {
          record = buildHevcDecoderConfig(vps, sps, pps);
        } catch (err) {
          if (err instanceof CodecError) throw new TsError(`HEVC parameter sets: ${err.message}`);
          throw err;
        }
        this.hevcSets = sets.map((b) => Buffer.from(b));
        out.push(new MediaFrame('video', 'HEVC', dts, dts, true, true, record, null));
      }
    }
    if (!this.hevcSets || size === 0) return out;
    out.push(new MediaFrame('video', 'HEVC', dts, pts, keyframe, false, lengthPrefixed(body, size), null));
    return out;
  }

  private opus(data: Buffer, esInfo: Buffer, dts: number): MediaFrame[] {
    const out: MediaFrame[] = [];
    let samples = 0;
    for (const p of parseOpusTsPayload(data)) {
      if (!this.opusHead) {
        const channels = opusChannelsFromEsInfo(esInfo);
        // The first packet's start_trim is the encoder's pre-skip (FFmpeg writes it so).
        this.opusHead = buildOpusHead(channels > 0 ? channels : 2, p.startTrim);
        out.push(new MediaFrame('audio', 'Opus', dts, dts, false, true, this.opusHead, null));
      }
      const t = dts + Math.round(samples / 48);
      out.push(new MediaFrame('audio', 'Opus', t, t, false, false, Buffer.from(p.packet), null));
      samples += opusPacketDuration(p.packet);
    }
    return out;
  }

  private aac(data: Buffer, dts: number): MediaFrame[] {
    const out: MediaFrame[] = [];
    let o = 0;
    let n = 0;
    while (o + 7 <= data.length) {
      const h = parseAdtsHeader(data, o);
      if (o + h.frameLength > data.length) break;
      if (!this.asc) {
        this.asc = buildAudioSpecificConfig(h.objectType, h.samplingIndex, h.channelConfig);
        out.push(new MediaFrame('audio', 'AAC', dts, dts, false, true, this.asc, null));
      }
      const t = dts + Math.round((n * 1024 * 1000) / h.sampleRate);
      out.push(new MediaFrame('audio', 'AAC', t, t, false, false, Buffer.from(data.subarray(o + h.headerLength, o + h.frameLength)), null));
      o += h.frameLength;
      n++;
    }
    return out;
  }
}

/**
 * Puts the frames of a TS's tracks back into one dts order: muxers send an
 * audio PES up to several hundred ms away from the video around it, and the
 * hub (one timeline, SRS's jitter rules) takes such a swing for a jump. A
 * frame is let out once every track seen has reached its dts; at most
 * `maxFrames` wait (then the oldest goes).
 */
export class FrameInterleaver {
  private readonly queue: MediaFrame[] = [];
  private readonly lastDts = new Map<string, number>();

  constructor(private readonly maxFrames = 512) {}

  push(f: MediaFrame): MediaFrame[] {
    if (f.kind !== 'script') this.lastDts.set(f.kind, f.dts);
    // Insertion keeps the queue sorted by dts (stable: equal dts keep their order).
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.dts > f.dts) i--;
    this.queue.splice(i, 0, f);
    let horizon = Infinity;
    for (const d of this.lastDts.values()) horizon = Math.min(horizon, d);
    const out: MediaFrame[] = [];
    while (this.queue.length > 0 && (this.queue[0]!.dts <= horizon || this.queue.length > this.maxFrames)) out.push(this.queue.shift()!);
    return out;
  }
}
