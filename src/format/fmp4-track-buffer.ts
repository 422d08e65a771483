/**
 * From MediaFrames to fMP4 samples, one buffer per track: timestamps in the
 * track's timescale, each sample's duration known when the next one comes
 * (the last one of a fragment takes the fragment's end, or a guess). AAC/MP3
 * keep their nominal frame duration unless the input really jumps, so that
 * ms-rounded RTMP timestamps do not turn into audio jitter.
 */
import type { MediaFrame } from '../codec/media-frame.js';
import { parseAudioSpecificConfig } from '../codec/aac.js';
import { describeVideoConfig } from '../codec/describe-codec.js';
import { parseMpegAudioHeader } from '../codec/mp3.js';
import { CodecError } from '../codec/codec-error.js';
import { Mp4Error, type Fmp4Run, type Fmp4Sample, type Fmp4Track } from './fmp4.js';

/** Builds the track description from a sequence header (or, for MP3, the first frame). Throws Mp4Error. */
export function fmp4TrackFromFrame(id: number, f: MediaFrame): Fmp4Track | null {
  try {
    if (f.kind === 'video') {
      if (f.codec !== 'H264' && f.codec !== 'HEVC') return null;
      const info = describeVideoConfig(f.codec, f.payload);
      return { id, kind: 'video', codec: f.codec, timescale: 90000, config: f.payload, width: info.width, height: info.height, sampleRate: 0, channels: 0 };
    }
    if (f.codec === 'AAC') {
      const c = parseAudioSpecificConfig(f.payload);
      const rate = c.sampleRate;
      return { id, kind: 'audio', codec: 'AAC', timescale: rate, config: f.payload, width: 0, height: 0, sampleRate: rate, channels: c.channels || 2 };
    }
    if (f.codec === 'MP3') {
      const h = parseMpegAudioHeader(f.payload, 0);
      return { id, kind: 'audio', codec: 'MP3', timescale: h.sampleRate, config: Buffer.alloc(0), width: 0, height: 0, sampleRate: h.sampleRate, channels: h.channels };
    }
    return null;
  } catch (err) {
    if (err instanceof CodecError) throw new Mp4Error(`${f.codec} config: ${err.message}`);
    throw err;
  }
}

export class Fmp4TrackBuffer {
  private samples: Fmp4Sample[] = [];
  private firstTicks = 0;
  private lastTicks = -1;
  private lastDuration = 0;
  /** Nominal samples per audio frame (AAC 1024, MP3 1152/576), 0 for video. */
  private readonly frameTicks: number;

  constructor(readonly track: Fmp4Track, mp3SamplesPerFrame = 1152) {
    this.frameTicks = track.kind === 'audio' ? (track.codec === 'AAC' ? 1024 : mp3SamplesPerFrame) : 0;
    this.lastDuration = track.kind === 'video' ? 3600 : this.frameTicks;
  }

  get length(): number {
    return this.samples.length;
  }

  toTicks(ms: number): number {
    return Math.round((ms * this.track.timescale) / 1000);
  }

  /** `shiftMs` moves the frame's timestamps (an ABR rendition's onto its source's timeline). */
  add(f: MediaFrame, shiftMs = 0): void {
    let ticks = this.toTicks(f.dts + shiftMs);
    if (this.frameTicks > 0 && this.lastTicks >= 0) {
      const expected = this.lastTicks + this.frameTicks;
      if (Math.abs(ticks - expected) < this.frameTicks / 2) ticks = expected;
    }
    const prev = this.samples[this.samples.length - 1];
    if (prev) {
      const d = ticks - this.lastTicks;
      prev.duration = d > 0 ? d : this.lastDuration;
      this.lastDuration = prev.duration;
    } else if (this.lastTicks >= 0 && ticks < this.lastTicks) {
      ticks = this.lastTicks; // never go back across fragments
    }
    if (this.samples.length === 0) this.firstTicks = ticks;
    this.samples.push({
      duration: this.lastDuration,
      cts: this.track.kind === 'video' ? this.toTicks(f.pts + shiftMs) - this.toTicks(f.dts + shiftMs) : 0,
      keyframe: f.kind === 'audio' || f.keyframe,
      data: f.payload,
    });
    this.lastTicks = ticks;
  }

  /** Takes the buffered samples as one run; the last sample ends at `endMs` when given. */
  drain(endMs?: number): Fmp4Run | null {
    if (this.samples.length === 0) return null;
    const last = this.samples[this.samples.length - 1]!;
    if (this.frameTicks > 0) last.duration = this.frameTicks;
    else if (endMs !== undefined) {
      const d = this.toTicks(endMs) - this.lastTicks;
      last.duration = d > 0 ? d : this.lastDuration;
    } else last.duration = this.lastDuration;
    const run: Fmp4Run = { track: this.track, baseDecodeTime: this.firstTicks, samples: this.samples };
    this.samples = [];
    return run;
  }

  /** Duration of the buffered samples so far, in ms. */
  spanMs(): number {
    if (this.samples.length === 0) return 0;
    return ((this.lastTicks - this.firstTicks) * 1000) / this.track.timescale;
  }
}
