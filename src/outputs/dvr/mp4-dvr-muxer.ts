/**
 * MP4 recording as fragmented MP4: the moov (tracks from the sequence
 * headers) first, then one moof+mdat about every second and at each video
 * keyframe. Unlike a classic MP4, whose moov is written last (SRS loses a
 * whole recording when it crashes), every fragment on disk is playable, so a
 * `kill -9` loses at most the last second. On close the movie header's
 * duration is patched in, so players show the length at once.
 *
 * What the fMP4 writer supports goes in (H.264, H.265; AAC, MP3); another
 * track (AV1, Opus, VP9...) is left out and named in `skipped`.
 */
import type { MediaFrame } from '../../codec/media-frame.js';
import { fmp4Fragment, fmp4InitSegment, type Fmp4Run, type Fmp4Track } from '../../format/fmp4.js';
import { Fmp4TrackBuffer, fmp4TrackFromFrame } from '../../format/fmp4-track-buffer.js';
import type { DvrMuxer, FilePatch } from './dvr-muxer.js';

/** A fragment is written once it spans this much: the most a crash can lose. */
const FRAGMENT_MS = 1000;
const VIDEO_TRACK = 1;
const AUDIO_TRACK = 2;

export class Mp4DvrMuxer implements DvrMuxer {
  readonly skipped: string[] = [];
  private videoHeader: MediaFrame | null = null;
  private audioHeader: MediaFrame | null = null;
  private video: Fmp4TrackBuffer | null = null;
  private audio: Fmp4TrackBuffer | null = null;
  private started = false;
  private sequence = 1;
  private fragStart = -1;
  private lastDts = 0;
  private mvhdDurationOffset = -1;

  push(f: MediaFrame): Buffer[] {
    if (f.kind === 'script') return [];
    if (f.header) {
      // A header after the start belongs to a new file (the recording cuts one).
      if (!this.started) {
        if (f.kind === 'video') this.videoHeader = f;
        else this.audioHeader = f;
      }
      return [];
    }
    if (f.kind === 'audio' && f.codec === 'MP3' && !this.audioHeader && !this.started) this.audioHeader = f; // MP3 has no header: its first frame describes it
    const out: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      out.push(this.init());
    }
    const buf = f.kind === 'video' ? this.video : this.audio;
    if (!buf || buf.track.codec !== f.codec) return out;
    if (this.fragStart >= 0 && (f.dts - this.fragStart >= FRAGMENT_MS || (f.kind === 'video' && f.keyframe))) {
      const frag = this.fragment(f.dts);
      if (frag) out.push(frag);
    }
    if (this.fragStart < 0) this.fragStart = f.dts;
    buf.add(f);
    if (f.dts > this.lastDts) this.lastDts = f.dts;
    return out;
  }

  end(): Buffer[] {
    const frag = this.fragment(this.lastDts + 40);
    return frag ? [frag] : [];
  }

  patches(): FilePatch[] {
    if (this.mvhdDurationOffset < 0) return [];
    const d = Buffer.alloc(4);
    d.writeUInt32BE(Math.max(0, Math.round(this.lastDts + 40)) >>> 0); // mvhd timescale is 1000
    return [{ offset: this.mvhdDurationOffset, data: d }];
  }

  private init(): Buffer {
    const tracks: Fmp4Track[] = [];
    const vt = this.videoHeader ? this.trackOf(VIDEO_TRACK, this.videoHeader) : null;
    const at = this.audioHeader ? this.trackOf(AUDIO_TRACK, this.audioHeader) : null;
    if (vt) {
      tracks.push(vt);
      this.video = new Fmp4TrackBuffer(vt);
    }
    if (at) {
      tracks.push(at);
      this.audio = new Fmp4TrackBuffer(at);
    }
    if (tracks.length === 0) throw new Error('no track MP4 can hold');
    const init = fmp4InitSegment(tracks);
    const mvhd = init.indexOf('mvhd', 0, 'latin1');
    // type(4) version+flags(4) creation(4) modification(4) timescale(4), then duration.
    this.mvhdDurationOffset = mvhd < 0 ? -1 : mvhd + 4 + 4 + 12;
    return init;
  }

  private trackOf(id: number, h: MediaFrame): Fmp4Track | null {
    const t = fmp4TrackFromFrame(id, h);
    if (!t) this.skipped.push(`${h.kind} ${h.codec}: not in MP4 recordings (record to .flv for it)`);
    return t;
  }

  private fragment(endDts: number): Buffer | null {
    const runs: Fmp4Run[] = [];
    for (const b of [this.video, this.audio]) {
      const run = b?.drain(endDts);
      if (run) runs.push(run);
    }
    this.fragStart = -1;
    if (runs.length === 0) return null;
    return fmp4Fragment(this.sequence++, runs);
  }
}
