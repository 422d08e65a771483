/**
 * Low-latency HLS (RFC 8216bis) for one stream, held in memory: CMAF (fMP4)
 * segments made of partial segments, a playlist with EXT-X-PART and
 * EXT-X-PRELOAD-HINT, and blocking reload (the server holds a playlist or a
 * hinted part request until it exists). Segments are cut by the same rules
 * as classic HLS; parts at `hls_part_duration`.
 */
import type { Logger } from '../../log/logger.js';
import type { MediaFrame } from '../../codec/media-frame.js';
import type { HlsConfig } from '../../config/vhost-config.js';
import { Mp4Error, fmp4Fragment, fmp4InitSegment, rfc6381Codec, type Fmp4Run, type Fmp4Track } from '../../format/fmp4.js';
import { Fmp4TrackBuffer, fmp4TrackFromFrame } from '../../format/fmp4-track-buffer.js';
import { hlsTargetDuration, writeLowLatencyPlaylist, type LlPart } from '../../format/m3u8.js';
import { shouldCut } from '../segment/segment-rules.js';
import { MemoryBody } from '../segment/memory-body.js';
import { RetiredSegments } from '../segment/retired-segments.js';
import { BLOCKING_PLAYLIST_CACHE_CONTROL, livePlaylistCacheControl, segmentCacheControl } from '../segment/cdn-cache.js';

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const MEDIA_TYPE = 'video/iso.segment';

export interface LlPartData {
  index: number;
  data: Buffer;
  /** Seconds. */
  duration: number;
  independent: boolean;
  /** `data` as a response, made on first request. */
  body?: MemoryBody;
}

export interface LlSegmentData {
  msn: number;
  parts: LlPartData[];
  /** Seconds; set when complete. */
  duration: number;
  discontinuity: boolean;
  complete: boolean;
  /** Wall clock (ms) of the first frame at ingest. */
  programDateTime: number;
  /** The whole segment (its parts back to back), built on first request. */
  full: Buffer | null;
  fullBody?: MemoryBody;
}

interface Waiter {
  msn: number;
  part: number | undefined;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

/** Parts are listed in the playlist for this many recent segments. */
const SEGMENTS_WITH_PARTS = 3;
const BACKWARD_JUMP_MS = 1000;

export class LlHlsStream {
  init: Buffer | null = null;
  readonly segments: LlSegmentData[] = [];
  /** Slid out of the playlist, still served (whole) to players holding an older playlist (RFC 8216 §6.2.2). */
  private retired = new RetiredSegments<LlSegmentData>();
  cur: LlSegmentData | null = null;
  /** The playlist as of the last part (null before the first part). */
  playlist: string | null = null;
  /** The playlist as a response: one Buffer shared by every player, and by every blocked reload it wakes. */
  playlistBody: MemoryBody | null = null;
  blockingPlaylistBody: MemoryBody | null = null;
  initBody: MemoryBody | null = null;
  codecs = '';
  private nextMsn = 0;
  private tracks: { video: Fmp4Track | null; audio: Fmp4Track | null } = { video: null, audio: null };
  private videoBuf: Fmp4TrackBuffer | null = null;
  private audioBuf: Fmp4TrackBuffer | null = null;
  private initDirty = false;
  private segStart = 0;
  private partStart = 0;
  private partIndependent = false;
  private lastDts = 0;
  private lastPrimaryDts = -1;
  private interval = 40;
  private fragmentSeq = 1;
  private pendingDiscontinuity = false;
  private readonly waiters = new Set<Waiter>();
  private errorLogged = false;
  private epochMs = 0;
  private disposeTimer: NodeJS.Timeout | null = null;
  /** Called when the stream disposes itself (hls_dispose after unpublish). */
  onDisposed: (() => void) | null = null;

  constructor(
    /** File base of every URI (`livestream` → `livestream-3.2.m4s`). */
    readonly base: string,
    public cfg: HlsConfig,
    private readonly log: Logger,
  ) {}

  get partTargetMs(): number {
    return Math.max(50, this.cfg.partDuration * 1000);
  }

  get hasVideo(): boolean {
    return this.tracks.video !== null;
  }

  onPublish(): void {
    if (this.disposeTimer) clearTimeout(this.disposeTimer);
    this.disposeTimer = null;
    if (this.segments.length > 0 || this.cur) this.pendingDiscontinuity = true;
    this.tracks = { video: null, audio: null };
    this.videoBuf = this.audioBuf = null;
    this.lastPrimaryDts = -1;
    this.epochMs = 0;
  }

  onUnpublish(): void {
    if (this.cur) {
      const end = this.lastDts + this.interval;
      this.closePart(end);
      this.closeSegment(end);
    }
    this.rebuildPlaylist();
    if (this.cfg.dispose > 0) {
      this.disposeTimer = setTimeout(() => {
        this.dispose();
        this.onDisposed?.();
      }, this.cfg.dispose * 1000);
      this.disposeTimer.unref();
    }
  }

  /** Frees everything and answers every waiting request. */
  dispose(): void {
    if (this.disposeTimer) clearTimeout(this.disposeTimer);
    this.disposeTimer = null;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
    this.waiters.clear();
    this.segments.length = 0;
    this.retired.drain();
    this.cur = null;
    this.playlist = null;
    this.playlistBody = this.blockingPlaylistBody = null;
    this.init = null;
    this.initBody = null;
  }

  onFrame(f: MediaFrame): void {
    if (f.kind === 'script') return;
    try {
      if (f.header || (f.kind === 'audio' && f.codec === 'MP3' && !this.tracks.audio)) {
        this.onHeader(f);
        if (f.header) return;
      }
      this.onMedia(f);
    } catch (err) {
      if (!(err instanceof Mp4Error)) throw err;
      if (!this.errorLogged) this.log.warn({ err: err.message }, 'LL-HLS: frame dropped');
      this.errorLogged = true;
    }
  }

  private onHeader(f: MediaFrame): void {
    if (f.kind === 'video') {
      const t = fmp4TrackFromFrame(1, f);
      if (!t) return;
      this.tracks.video = t;
      this.videoBuf = new Fmp4TrackBuffer(t);
    } else {
      const t = fmp4TrackFromFrame(2, f);
      if (!t) return;
      this.tracks.audio = t;
      this.audioBuf = new Fmp4TrackBuffer(t);
    }
    this.initDirty = true;
  }

  private onMedia(f: MediaFrame): void {
    const video = f.kind === 'video';
    const buf = video ? this.videoBuf : this.audioBuf;
    if (!buf || buf.track.codec !== f.codec) return;
    const cur = this.cur;
    const pureAudio = !this.hasVideo;
    if (!cur) {
      if (!pureAudio && !(video && f.keyframe)) return;
      this.startSegment(f.dts);
    } else if (f.dts < this.lastDts - BACKWARD_JUMP_MS) {
      const end = this.lastDts + this.interval;
      this.closePart(end);
      this.closeSegment(end);
      if (!pureAudio && !(video && f.keyframe)) return;
      this.pendingDiscontinuity = true;
      this.startSegment(f.dts);
    } else if (shouldCut(this.cfg, f.dts - this.segStart, video ? 'video' : 'audio', f.keyframe, pureAudio)) {
      this.closePart(f.dts);
      this.closeSegment(f.dts);
      this.startSegment(f.dts);
    } else if (f.dts - this.partStart + this.interval > this.partTargetMs && f.dts > this.partStart) {
      this.closePart(f.dts);
      this.partStart = f.dts;
      this.partIndependent = (video && f.keyframe) || pureAudio;
    }
    if (video === !pureAudio) {
      if (this.lastPrimaryDts >= 0 && f.dts > this.lastPrimaryDts) this.interval = Math.min(1000, f.dts - this.lastPrimaryDts);
      this.lastPrimaryDts = f.dts;
    }
    buf.add(f);
    if (f.dts > this.lastDts) this.lastDts = f.dts;
  }

  private startSegment(dts: number): void {
    if (this.initDirty || !this.init) this.buildInit();
    if (this.epochMs === 0) this.epochMs = Date.now() - dts;
    this.cur = {
      msn: this.nextMsn++,
      parts: [],
      duration: 0,
      discontinuity: this.pendingDiscontinuity,
      complete: false,
      full: null,
      programDateTime: this.epochMs + dts,
    };
    this.pendingDiscontinuity = false;
    this.segStart = this.partStart = this.lastDts = dts;
    this.partIndependent = true;
    // Until its first part closes, the playlist must already hint that part (else it has no PRELOAD-HINT).
    this.rebuildPlaylist();
  }

  private buildInit(): void {
    const tracks = [this.tracks.video, this.tracks.audio].filter((t): t is Fmp4Track => t !== null);
    const init = fmp4InitSegment(tracks);
    if (this.init && !this.init.equals(init)) {
      // A different codec config: old segments cannot be decoded with the new init.
      this.segments.length = 0;
      this.retired.drain();
    }
    this.init = init;
    // The URL stays when the codec config changes: cached no longer than a playlist.
    this.initBody = new MemoryBody(init, 'video/mp4', livePlaylistCacheControl(this.partTargetMs / 1000));
    this.initDirty = false;
    this.codecs = tracks.map((t) => rfc6381Codec(t.codec, t.config)).join(',');
  }

  private closePart(endDts: number): void {
    const cur = this.cur;
    if (!cur) return;
    const runs: Fmp4Run[] = [];
    const v = this.videoBuf?.drain(endDts);
    const a = this.audioBuf?.drain(endDts);
    if (v) runs.push(v);
    if (a) runs.push(a);
    if (runs.length === 0) return;
    const part: LlPartData = {
      index: cur.parts.length,
      data: fmp4Fragment(this.fragmentSeq++, runs),
      duration: Math.max(0.001, (endDts - this.partStart) / 1000),
      independent: this.partIndependent,
    };
    cur.parts.push(part);
    this.rebuildPlaylist();
    this.wake();
  }

  private closeSegment(endDts: number): void {
    const cur = this.cur;
    this.cur = null;
    if (!cur) return;
    if (cur.parts.length === 0) {
      this.nextMsn--;
      return;
    }
    cur.duration = cur.parts.reduce((s, p) => s + p.duration, 0) || (endDts - this.segStart) / 1000;
    cur.complete = true;
    this.segments.push(cur);
    // The window: newest first until the total exceeds hls_window (at least 3 segments).
    let sum = 0;
    let keepFrom = 0;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      sum += this.segments[i]!.duration;
      if (sum > this.cfg.window && this.segments.length - i > 3) {
        keepFrom = i;
        break;
      }
    }
    this.retired.advance(cur.duration * 1000);
    if (keepFrom > 0) {
      const gone = this.segments.splice(0, keepFrom);
      let listedMs = 0;
      for (const x of this.segments) listedMs += x.duration * 1000;
      for (const x of gone) {
        x.full ??= Buffer.concat(x.parts.map((p) => p.data));
        x.parts = [];
        this.retired.retire(x, x.duration * 1000 + listedMs);
      }
    }
    // Old segments keep only their whole bytes.
    const old = this.segments.length - SEGMENTS_WITH_PARTS - 1;
    if (old >= 0) {
      const s = this.segments[old]!;
      if (s.parts.length > 0) {
        s.full ??= Buffer.concat(s.parts.map((p) => p.data));
        s.parts = [];
      }
    }
    this.rebuildPlaylist();
    this.wake();
  }

  private uri(msn: number, part?: number): string {
    return part === undefined ? `${this.base}-${msn}.m4s` : `${this.base}-${msn}.${part}.m4s`;
  }

  private partLines(s: LlSegmentData): LlPart[] {
    return s.parts.map((p) => ({ uri: this.uri(s.msn, p.index), duration: p.duration, independent: p.independent }));
  }

  private rebuildPlaylist(): void {
    if (!this.init || (this.segments.length === 0 && (!this.cur || this.cur.parts.length === 0))) {
      this.playlist = null;
      this.playlistBody = this.blockingPlaylistBody = null;
      return;
    }
    const n = this.segments.length;
    const durations = this.segments.map((s) => s.duration);
    this.playlist = writeLowLatencyPlaylist({
      mediaSequence: this.segments[0]?.msn ?? this.cur!.msn,
      targetDuration: hlsTargetDuration(durations, this.cfg.fragment, this.cfg.tdRatio),
      partTarget: this.partTargetMs / 1000,
      mapUri: `${this.base}-init.mp4`,
      segments: this.segments.map((s, i) => ({
        uri: this.uri(s.msn),
        duration: s.duration,
        discontinuity: s.discontinuity,
        programDateTime: s.programDateTime,
        parts: i >= n - SEGMENTS_WITH_PARTS ? this.partLines(s) : [],
      })),
      pendingParts: this.cur ? this.partLines(this.cur) : [],
      pendingDiscontinuity: this.cur?.discontinuity ?? false,
      pendingProgramDateTime: this.segments.length === 0 ? this.cur?.programDateTime : undefined,
      preloadHint: this.cur ? this.uri(this.cur.msn, this.cur.parts.length) : null,
    });
    this.playlistBody = new MemoryBody(Buffer.from(this.playlist), PLAYLIST_TYPE, livePlaylistCacheControl(this.partTargetMs / 1000));
    this.blockingPlaylistBody = this.playlistBody.withCacheControl(BLOCKING_PLAYLIST_CACHE_CONTROL);
  }

  /** Whether the playlist already holds segment `msn` (complete), or its part `part`. */
  ready(msn: number, part?: number): boolean {
    const lastComplete = this.segments.length ? this.segments[this.segments.length - 1]!.msn : -1;
    if (msn <= lastComplete) return true;
    if (part === undefined) return false;
    return this.cur !== null && this.cur.msn === msn && this.cur.parts.length > part;
  }

  /** The media sequence number the live edge is at (for the "too far ahead" check). */
  get edgeMsn(): number {
    return this.cur ? this.cur.msn : this.nextMsn;
  }

  /** Resolves true once ready(msn, part), false after timeoutMs. */
  waitFor(msn: number, part: number | undefined, timeoutMs: number): Promise<boolean> {
    if (this.ready(msn, part)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: Waiter = {
        msn,
        part,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  private wake(): void {
    for (const w of this.waiters) {
      if (this.ready(w.msn, w.part)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(true);
      }
    }
  }

  part(msn: number, index: number): LlPartData | null {
    const s = this.cur?.msn === msn ? this.cur : this.segments.find((x) => x.msn === msn);
    return s?.parts[index] ?? null;
  }

  partBody(msn: number, index: number): MemoryBody | null {
    const p = this.part(msn, index);
    if (!p) return null;
    return (p.body ??= new MemoryBody(p.data, MEDIA_TYPE, segmentCacheControl(this.cfg.window)));
  }

  segmentBody(msn: number): MemoryBody | null {
    const s = this.listedOrRetired(msn);
    if (!s) return null;
    s.full ??= Buffer.concat(s.parts.map((p) => p.data));
    return (s.fullBody ??= new MemoryBody(s.full, MEDIA_TYPE, segmentCacheControl(this.cfg.window)));
  }

  private listedOrRetired(msn: number): LlSegmentData | undefined {
    return this.segments.find((x) => x.msn === msn) ?? this.retired.find((x) => x.msn === msn);
  }

  segment(msn: number): Buffer | null {
    const s = this.listedOrRetired(msn);
    if (!s) return null;
    s.full ??= Buffer.concat(s.parts.map((p) => p.data));
    return s.full;
  }

  /** Target duration in seconds (for blocking timeouts). */
  get targetSeconds(): number {
    return hlsTargetDuration(this.segments.map((s) => s.duration), this.cfg.fragment, this.cfg.tdRatio);
  }
}
