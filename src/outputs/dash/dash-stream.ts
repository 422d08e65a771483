/**
 * MPEG-DASH for one stream, laid out as SRS does: `dash_path/[app]/[stream].mpd`
 * and, under `[app]/[stream]/`, `video-init.mp4`, `audio-init.mp4`,
 * `video-<n>.m4s`, `audio-<n>.m4s`. Segments are cut at keyframes once they
 * span `dash_fragment`; the MPD (dynamic, SegmentTimeline) keeps the last
 * `dash_window_size` segments and is rewritten after each one.
 *
 * A segment enters the timeline and the MPD only once its files are written:
 * its number is given when the write runs, so a failed write (a full disk)
 * leaves no hole in the numbering ($Number$ counts from startNumber) and no
 * entry players would get a 404 for. Each <S> carries its own t, so the lost
 * time shows as a gap.
 */
import { posix } from 'node:path';
import type { Logger } from '../../log/logger.js';
import type { MediaFrame } from '../../codec/media-frame.js';
import type { DashConfig } from '../../config/vhost-config.js';
import { Mp4Error, fmp4Fragment, fmp4InitSegment, rfc6381Codec, type Fmp4Run, type Fmp4Track } from '../../format/fmp4.js';
import { Fmp4TrackBuffer, fmp4TrackFromFrame } from '../../format/fmp4-track-buffer.js';
import { writeMpd, type MpdLadderRepresentation, type MpdRepresentation, type MpdTimelineEntry } from '../../format/mpd.js';
import { IoQueue, WriteFailures, type FileStore } from '../segment/file-store.js';
import { applyTemplate } from '../segment/path-template.js';
import { jailedPath } from '../../core/path-jail.js';
import { shouldCut } from '../segment/segment-rules.js';
import { MemoryBody } from '../segment/memory-body.js';
import { RetiredSegments } from '../segment/retired-segments.js';
import { livePlaylistCacheControl, segmentCacheControl } from '../segment/cdn-cache.js';
import { AbrSlotGrid } from '../../ffmpeg/abr-slot-grid.js';

/** The newest segments of each track are also kept in memory (players ask for the live edge); older ones are read from disk. */
const SEGMENTS_IN_MEMORY = 4;

/** Told of every file kept in memory (by absolute path) and of its leaving. */
export interface DashMemory {
  set(abs: string, body: MemoryBody): void;
  delete(abs: string, body: MemoryBody): void;
}

interface TrackState {
  track: Fmp4Track;
  buf: Fmp4TrackBuffer;
  timeline: (MpdTimelineEntry & { n: number; bytes: number; samples: number; body?: MemoryBody })[];
  codecs: string;
}

/**
 * A member of an ABR ladder (abr-ladder.ts): its segments are cut at the
 * first video keyframe of each `dash_fragment` slot of the source's
 * timeline and numbered by the slot, and its fMP4 times (tfdt, the MPD's
 * SegmentTimeline) are on the source's timeline, so that the ladder's MPD
 * lists the same numbers and times for the same media in every rung.
 */
export interface DashAlign {
  /** Added to a frame's dts, gives its time on the source's timeline (ms); 0 for the source. */
  offsetMs(): number;
}


/** One track of a ladder member, as the ladder's MPD lists it. */
export interface DashLadderTrack {
  rep: MpdLadderRepresentation;
  /** Seconds of the window, and its longest segment. */
  seconds: number;
  maxSegment: number;
}

export class DashStream {
  readonly mpdRel: string;
  readonly mpdAbs: string;
  /** Directory of the media files, absolute. */
  readonly mediaDir: string;
  readonly io: IoQueue;
  mpd: string | null = null;
  segmentsWritten = 0;
  private video: TrackState | null = null;
  private audio: TrackState | null = null;
  private nextNumber = 1;
  private segStart = -1;
  private lastDts = 0;
  /** Wall clock (ms) at media time 0 of this publish. */
  private epochMs = 0;
  private initDirty = true;
  private errorLogged = false;
  /** Set by the owner for a member of an ABR ladder. */
  align: DashAlign | null = null;
  /** ABR: the slot of the open segment, and the ladder's slots (unused outside a ladder). */
  private segSlot: number | null = null;
  private readonly grid = new AbrSlotGrid(() => this.cfg.fragment * 1000);
  private disposeTimer: NodeJS.Timeout | null = null;
  private readonly failures: WriteFailures;
  /** Slid out of the timelines, but the MPD on disk still lists them (not rewritten yet, or its write failed). */
  private slidOut: { file: string; durMs: number }[] = [];
  /** Slid out of the MPD on disk: they stay a while for players holding an older MPD (as HLS segments do). */
  private readonly retired = new RetiredSegments<string>();
  /** dash_dispose 0: the retired files go this long after the unpublish. */
  private retireTimer: NodeJS.Timeout | null = null;
  /** Init segments not yet on disk: written with the next segment, which is not listed without them. */
  private readonly inits = new Map<string, Buffer>();
  /** What is in memory now, by absolute path (the MPD, the inits, the newest segments). */
  private readonly held = new Map<string, MemoryBody>();

  constructor(
    readonly vhost: string,
    readonly app: string,
    readonly stream: string,
    public cfg: DashConfig,
    private readonly store: FileStore,
    private readonly log: Logger,
    private readonly memory?: DashMemory,
  ) {
    this.mpdRel = applyTemplate(cfg.mpdFile, { vhost, app, stream });
    const abs = jailedPath(cfg.path, this.mpdRel);
    const dir = jailedPath(cfg.path, this.mpdRel.replace(/\.mpd$/, ''));
    if (!abs || !dir) throw new Error(`DASH path "${this.mpdRel}" leaves dash_path`);
    this.mpdAbs = abs;
    this.mediaDir = dir;
    this.io = new IoQueue((err, what) => log.error({ err: (err as Error).message, what }, 'DASH write failed; the stream goes on'));
    this.failures = new WriteFailures(log, 'DASH');
  }

  onPublish(): void {
    this.stopTimers();
    this.video = this.audio = null;
    this.segStart = -1;
    this.epochMs = 0;
    this.initDirty = true;
    this.grid.unpublished();
  }

  /** Wall clock (ms) at media time 0; 0 before the first segment opened. */
  get clockEpochMs(): number {
    return this.epochMs;
  }

  onFrame(f: MediaFrame): void {
    if (f.kind === 'script') return;
    try {
      if (f.header || (f.kind === 'audio' && f.codec === 'MP3' && !this.audio)) {
        const t = fmp4TrackFromFrame(1, f);
        if (t) {
          const st: TrackState = { track: t, buf: new Fmp4TrackBuffer(t), timeline: [], codecs: rfc6381Codec(t.codec, t.config) };
          if (f.kind === 'video') this.video = st;
          else this.audio = st;
          this.initDirty = true;
        }
        if (f.header) return;
      }
      const st = f.kind === 'video' ? this.video : this.audio;
      if (!st || st.track.codec !== f.codec) return;
      const pureAudio = this.video === null;
      // ABR: on the source's timeline (a rendition's FFmpeg ran with -copyts; its jitter correction moved it by offsetMs).
      const shift = this.align ? this.align.offsetMs() : 0;
      const dts = f.dts + shift;
      const grid = this.align !== null && !pureAudio;
      if (this.segStart < 0) {
        if (!pureAudio && !(f.kind === 'video' && f.keyframe)) return;
        if (grid && !this.grid.startsSlot(dts)) return;
        if (this.epochMs === 0) this.epochMs = Date.now() - dts;
        if (this.initDirty) this.writeInits();
        this.segStart = dts;
        this.segSlot = grid ? this.grid.slotOf(dts) : null;
      } else if (
        grid
          ? f.kind === 'video' && f.keyframe && this.grid.slotOf(dts) > (this.segSlot ?? this.grid.slotOf(this.segStart))
          : shouldCut({ fragment: this.cfg.fragment, tdRatio: 1, aofRatio: 2.1, waitKeyframe: true }, dts - this.segStart, f.kind === 'video' ? 'video' : 'audio', f.keyframe, pureAudio)
      ) {
        this.cut(dts);
        this.segStart = dts;
        this.segSlot = grid ? this.grid.slotOf(dts) : null;
      }
      st.buf.add(f, shift);
      if (dts > this.lastDts) this.lastDts = dts;
    } catch (err) {
      if (!(err instanceof Mp4Error)) throw err;
      if (!this.errorLogged) this.log.warn({ err: err.message }, 'DASH: frame dropped');
      this.errorLogged = true;
    }
  }

  onUnpublish(): void {
    if (this.segStart >= 0) this.cut(this.lastDts + 40);
    this.segStart = -1;
    if (this.cfg.dispose > 0) {
      this.disposeTimer = setTimeout(() => void this.dispose('no publisher'), this.cfg.dispose * 1000);
      this.disposeTimer.unref();
    }
    // No new segment will advance the retired files' clock: they go when the last MPD has played out.
    if (!this.cfg.cleanup) return;
    const keepMs = (this.listedSeconds() + this.cfg.fragment) * 1000;
    this.retireTimer = setTimeout(() => this.io.push('retire', () => this.removeAll(this.retired.drain())), keepMs);
    this.retireTimer.unref();
  }

  private async removeAll(files: string[]): Promise<void> {
    for (const f of files) await this.store.remove(f);
  }

  dispose(reason: string): Promise<void> {
    this.stopTimers();
    const tracks = [this.video, this.audio];
    // After the writes already queued, which may still add to the timelines.
    this.io.push('dispose', async () => {
      const files = [this.mpdAbs, ...this.slidOut.map((r) => r.file), ...this.retired.drain()];
      this.slidOut = [];
      for (const st of tracks) {
        if (!st) continue;
        files.push(this.file(`${st.track.kind}-init.mp4`));
        for (const e of st.timeline) files.push(this.file(`${st.track.kind}-${e.n}.m4s`));
        st.timeline.length = 0;
      }
      this.mpd = null;
      for (const [abs, body] of this.held) this.memory?.delete(abs, body);
      this.held.clear();
      this.log.info({ reason, files: files.length }, 'DASH disposed');
      await this.removeAll(files);
    });
    return this.io.idle();
  }

  stopTimers(): void {
    if (this.disposeTimer) clearTimeout(this.disposeTimer);
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.disposeTimer = this.retireTimer = null;
  }

  private file(name: string): string {
    return posix.join(this.mediaDir, name);
  }

  private writeInits(): void {
    this.initDirty = false;
    for (const st of [this.video, this.audio]) {
      if (!st) continue;
      const init = fmp4InitSegment([st.track]);
      this.inits.set(this.file(`${st.track.kind}-init.mp4`), init);
    }
  }

  private cut(endDts: number): void {
    const slot = this.segSlot;
    this.segSlot = null;
    if (slot !== null) this.grid.cut(slot);
    const runs: [TrackState, Fmp4Run][] = [];
    for (const st of [this.video, this.audio]) {
      if (!st) continue;
      const run = st.buf.drain(endDts);
      if (run) runs.push([st, run]);
    }
    if (runs.length > 0) this.io.push('segment', () => this.write(runs, slot));
  }

  /**
   * Runs in the write queue: numbers the segment, writes its files, and only
   * then adds it to the timelines and rewrites the MPD. A failed write
   * removes what it wrote and lists nothing new.
   */
  private async write(runs: [TrackState, Fmp4Run][], slot: number | null): Promise<void> {
    // ABR: the first segment is numbered by its grid slot (from 1, as $Number$ here), so every rung has the same
    // number for the same media; the next ones count on, since a SegmentTimeline's numbers have no holes.
    const listed = (this.video?.timeline.length ?? 0) + (this.audio?.timeline.length ?? 0) > 0;
    const n = slot === null || listed ? this.nextNumber : Math.max(this.nextNumber, slot + 1);
    const done: string[] = [];
    const entries: [TrackState, TrackState['timeline'][number]][] = [];
    try {
      for (const [path, init] of this.inits) {
        await this.store.write(path, [init]);
        this.inits.delete(path);
        // The URL stays when the codec config changes: cached no longer than the MPD.
        this.hold(path, new MemoryBody(init, 'video/mp4', livePlaylistCacheControl(this.cfg.fragment)));
      }
      for (const [st, run] of runs) {
        const data = fmp4Fragment(n, [run]);
        const path = this.file(`${st.track.kind}-${n}.m4s`);
        await this.store.write(path, [data]);
        done.push(path);
        entries.push([st, { t: run.baseDecodeTime, d: run.samples.reduce((s, x) => s + x.duration, 0), n, bytes: data.length, samples: run.samples.length, body: new MemoryBody(data, 'video/iso.segment', segmentCacheControl(this.cfg.windowSize * this.cfg.fragment)) }]);
      }
    } catch (err) {
      // The store left no temp file; a track written without the other is not listed, so it goes too.
      this.failures.fail(err, `segment ${n}`);
      for (const f of done) await this.store.remove(f).catch(() => undefined);
      return;
    }
    this.failures.ok();
    this.nextNumber = n + 1;
    for (const [st, e] of entries) {
      st.timeline.push(e);
      this.hold(this.file(`${st.track.kind}-${e.n}.m4s`), e.body!);
      while (st.timeline.length > this.cfg.windowSize) {
        const old = st.timeline.shift()!;
        this.release(this.file(`${st.track.kind}-${old.n}.m4s`));
        if (this.cfg.cleanup) this.slidOut.push({ file: this.file(`${st.track.kind}-${old.n}.m4s`), durMs: (old.d * 1000) / st.track.timescale });
      }
      const older = st.timeline[st.timeline.length - 1 - SEGMENTS_IN_MEMORY];
      if (older?.body) {
        older.body = undefined;
        this.release(this.file(`${st.track.kind}-${older.n}.m4s`));
      }
    }
    this.segmentsWritten++;
    const text = this.buildMpd();
    try {
      await this.store.write(this.mpdAbs, text);
    } catch (err) {
      // The old MPD stays on disk and in memory; it still lists the slid-out segments, so they stay too.
      this.failures.fail(err, this.mpdRel);
      return;
    }
    this.mpd = text;
    this.hold(this.mpdAbs, new MemoryBody(Buffer.from(text), 'application/dash+xml', livePlaylistCacheControl(this.cfg.fragment)));
    const [first] = entries;
    const due = first ? this.retired.advance((first[1].d * 1000) / first[0].track.timescale) : [];
    const listedMs = this.listedSeconds() * 1000;
    for (const r of this.slidOut) this.retired.retire(r.file, r.durMs + listedMs);
    this.slidOut = [];
    await this.removeAll(due);
  }

  /** Seconds of media the MPD lists (its longest track). */
  private listedSeconds(): number {
    let longest = 0;
    for (const st of [this.video, this.audio]) {
      if (!st) continue;
      let sum = 0;
      for (const e of st.timeline) sum += e.d;
      longest = Math.max(longest, sum / st.track.timescale);
    }
    return longest;
  }

  private hold(abs: string, body: MemoryBody): void {
    this.held.set(abs, body);
    this.memory?.set(abs, body);
  }

  private release(abs: string): void {
    const body = this.held.get(abs);
    if (!body) return;
    this.held.delete(abs);
    this.memory?.delete(abs, body);
  }

  /**
   * ABR: one track as the ladder's MPD lists it, its files named relative to
   * the ladder MPD's directory; null before its first segment. @bandwidth
   * is the peak segment bitrate of the window (x264 overshoots low
   * bitrates; a bandwidth below the real rate makes players stall).
   */
  ladderTrack(kind: 'video' | 'audio', id: string, relDir: string): DashLadderTrack | null {
    const st = kind === 'video' ? this.video : this.audio;
    if (!st || st.timeline.length === 0) return null;
    const ts = st.track.timescale;
    let seconds = 0;
    let peak = 0;
    let samples = 0;
    let maxSegment = 0;
    for (const e of st.timeline) {
      const d = e.d / ts;
      seconds += d;
      samples += e.samples;
      maxSegment = Math.max(maxSegment, d);
      if (d > 0) peak = Math.max(peak, (e.bytes * 8) / d);
    }
    const prefix = relDir === '' ? '' : `${relDir}/`;
    return {
      seconds,
      maxSegment,
      rep: {
        id,
        kind,
        codecs: st.codecs,
        bandwidth: peak > 0 ? peak : 1,
        width: st.track.width,
        height: st.track.height,
        sampleRate: st.track.sampleRate,
        channels: st.track.channels,
        timescale: ts,
        startNumber: st.timeline[0]!.n,
        timeline: st.timeline.map((e) => ({ t: e.t, d: e.d })),
        initialization: `${prefix}${kind}-init.mp4`,
        media: `${prefix}${kind}-$Number$.m4s`,
        frameRate: kind === 'video' && seconds > 0 ? samples / seconds : undefined,
      },
    };
  }

  buildMpd(): string {
    const reps: MpdRepresentation[] = [];
    let maxSeg = this.cfg.fragment;
    let windowSeconds = 0;
    for (const st of [this.video, this.audio]) {
      if (!st || st.timeline.length === 0) continue;
      const ts = st.track.timescale;
      const seconds = st.timeline.reduce((s, e) => s + e.d, 0) / ts;
      const bytes = st.timeline.reduce((s, e) => s + e.bytes, 0);
      windowSeconds = Math.max(windowSeconds, seconds);
      for (const e of st.timeline) maxSeg = Math.max(maxSeg, e.d / ts);
      reps.push({
        id: st.track.kind,
        kind: st.track.kind,
        codecs: st.codecs,
        bandwidth: seconds > 0 ? (bytes * 8) / seconds : 1,
        width: st.track.width,
        height: st.track.height,
        sampleRate: st.track.sampleRate,
        channels: st.track.channels,
        timescale: ts,
        startNumber: st.timeline[0]!.n,
        timeline: st.timeline,
      });
    }
    const now = new Date();
    return writeMpd({
      availabilityStartTime: new Date(this.epochMs),
      publishTime: now,
      minimumUpdatePeriod: this.cfg.updatePeriod,
      timeShiftBufferDepth: Math.min(this.cfg.timeshift, windowSeconds),
      minBufferTime: Math.min(this.cfg.fragment, 4),
      maxSegmentDuration: maxSeg,
      suggestedPresentationDelay: Math.min(maxSeg * 2, windowSeconds),
      baseUrl: `${posix.basename(this.mpdRel, '.mpd')}/`,
      representations: reps,
    });
  }
}
