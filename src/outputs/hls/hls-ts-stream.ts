/**
 * Classic HLS for one stream: MPEG-TS segments cut by SRS's rules, a live
 * sliding-window playlist, old segments deleted, everything disposed after
 * `hls_dispose` without a publisher. Muxing runs once per stream on the
 * frame path; each segment is kept in memory as its TS packets and written
 * in one go when it is cut (async, in order, off the hot path).
 *
 * A segment enters the window and the playlist only once its file is
 * complete on disk: the sequence number, file name and key are given when
 * the write runs, so a failed write (a full disk) leaves no hole in the
 * numbering and no entry players would get a 404 for.
 */
import { posix } from 'node:path';
import type { Logger } from '../../log/logger.js';
import type { MediaFrame } from '../../codec/media-frame.js';
import type { HlsConfig } from '../../config/vhost-config.js';
import { TsMuxer, type TsAudioCodec, type TsVideoCodec } from '../../format/mpegts-muxer.js';
import { TsError } from '../../format/mpegts-common.js';
import { hlsTargetDuration, writeMediaPlaylist } from '../../format/m3u8.js';
import { streamUrl } from '../../protocol/stream-url.js';
import type { HlsSegmentNotice } from './hls-segment-notice.js';
import { IoQueue, WriteFailures, type FileStore } from '../segment/file-store.js';
import { applyTemplate, configuredPath, urlDirname } from '../segment/path-template.js';
import { jailedPath } from '../../core/path-jail.js';
import { shouldCut } from '../segment/segment-rules.js';
import { AacDtsEstimator } from './aac-dts-estimator.js';
import { parseAudioSpecificConfig } from '../../codec/aac.js';
import { CodecError } from '../../codec/codec-error.js';
import { encryptSegment, ivHex, newHlsKey, startsNewKey, type HlsKey } from './hls-segment-cipher.js';
import { MemoryBody } from '../segment/memory-body.js';
import { RetiredSegments } from '../segment/retired-segments.js';
import { livePlaylistCacheControl, segmentCacheControl } from '../segment/cdn-cache.js';
import { AbrSlotGrid } from '../../ffmpeg/abr-slot-grid.js';

/**
 * The newest segments are also kept in memory (players ask for the live
 * edge): at least this many, and all of the last MEMORY_SECONDS; older ones
 * are read from disk. Memory per stream: about max(4 segments, 20 s) of its bitrate.
 */
const SEGMENTS_IN_MEMORY = 4;
const MEMORY_SECONDS = 20;

export interface HlsStreamDeps {
  store: FileStore;
  log: Logger;
  /** A segment was written (on_hls). */
  notify(n: HlsSegmentNotice): void;
  /** The current publisher's param and tcUrl, for the notice. */
  publisher(): { param: string; tcUrl: string };
  /** Told of every segment file kept in memory (by absolute path) and of its leaving. */
  memory?: { set(abs: string, body: MemoryBody): void; delete(abs: string, body: MemoryBody): void };
}

export interface HlsSegmentInfo {
  seq: number;
  /** Seconds. */
  duration: number;
  uri: string;
  /** Path relative to hls_path. */
  rel: string;
  abs: string;
  discontinuity: boolean;
  bytes: number;
  programDateTime: number;
  /** hls_keys: the #EXT-X-KEY URI and IV of the key that encrypts this segment. */
  key?: { uri: string; iv: string };
  /** hls_keys: the key file, deleted with the last segment that uses it. */
  keyAbs?: string;
  /** The file's bytes as a response, while it is one of the newest segments. */
  body?: MemoryBody;
  /** Video frames in it (the multivariant playlist's FRAME-RATE). */
  videoFrames: number;
}

/**
 * A member of an ABR ladder (abr-ladder.ts): its segments are cut at the
 * first video keyframe of each `hls_fragment` slot of the source's
 * timeline, numbered by the slot, and dated from the source's clock, so that
 * every rendition lists the same sequence numbers for the same media.
 */
export interface HlsAlign {
  /** Added to a frame's dts, gives its time on the source's timeline (ms). */
  offsetMs(): number;
  /** Wall clock at source time 0 (the source's #EXT-X-PROGRAM-DATE-TIME base), 0 when unknown. */
  epochMs(): number;
}


interface CurrentKey extends HlsKey {
  uri: string;
  abs: string;
  rel: string;
  written: boolean;
}

/** A sealed segment waiting for its turn in the write queue. */
interface SealedSegment {
  cfg: HlsConfig;
  chunks: Buffer[];
  bytes: number;
  durMs: number;
  discontinuity: boolean;
  programDateTime: number;
  pub: { param: string; tcUrl: string };
  /** ABR: the grid slot it starts in, its sequence number. */
  slot: number | null;
  videoFrames: number;
}

interface OpenSegment {
  startDts: number;
  lastDts: number;
  chunks: Buffer[];
  bytes: number;
  discontinuity: boolean;
  videoFrames: number;
  /** ABR: its start on the source's timeline (ms), taken when it opens (the offset is the current frame's). */
  alignedStart: number | null;
}

/** A backwards jump larger than this cuts the segment (timestamps restarted). */
const BACKWARD_JUMP_MS = 1000;
/** Segments shorter than this are discarded at close (SRS: 100 ms). */
const MIN_SEGMENT_MS = 100;

export class HlsTsStream {
  readonly m3u8Rel: string;
  readonly m3u8Abs: string;
  /** The playlist last written to disk (served from memory), null before the first segment or after dispose. */
  playlist: string | null = null;
  /** The same as a response (one Buffer, headers made once). */
  playlistBody: MemoryBody | null = null;
  readonly io: IoQueue;
  /** The segments of the playlist: written, complete files only. */
  readonly window: HlsSegmentInfo[] = [];
  segmentsWritten = 0;
  /** Set by the owner for a member of an ABR ladder. */
  align: HlsAlign | null = null;
  private readonly muxer: TsMuxer;
  private nextSeq = 0;
  private cur: OpenSegment | null = null;
  private hasVideo = false;
  private hadSegments = false;
  private pendingDiscontinuity = false;
  private disposeTimer: NodeJS.Timeout | null = null;
  private muxErrorLogged = false;
  /** Wall clock at media time 0 of this publish (for #EXT-X-PROGRAM-DATE-TIME). */
  private epochMs = 0;

  /** Wall clock at media time 0 (0 before the first segment opened): an ABR ladder's renditions date their segments from the source's. */
  get clockEpochMs(): number {
    return this.epochMs;
  }
  /** hls_keys: the key of the segments being written (a new one every hls_fragments_per_key). */
  private key: CurrentKey | null = null;
  /** A reload changed the settings: the open segment closes at the next keyframe (at once for audio only). */
  private restartPending = false;
  /** hls_dts_directly off: AAC DTS from the sample count. */
  private readonly aacDts = new AacDtsEstimator(0);
  private readonly failures: WriteFailures;
  /** A segment was lost to a failed write: the next one listed is a discontinuity (time jumps). */
  private gap = false;
  /** Written segments not yet in a playlist on disk (its write failed): their on_hls waits for it. */
  private unlisted: HlsSegmentNotice[] = [];
  /** Slid out of the window, but the playlist on disk still lists them (not rewritten yet, or its write failed). */
  private slidOut: { files: string[]; durMs: number }[] = [];
  /** Slid out of the playlist on disk: their files stay a while for players holding an older playlist. */
  private readonly retired = new RetiredSegments<string[]>();
  /** hls_dispose 0: the retired files go this long after the unpublish. */
  private retireTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly vhost: string,
    readonly app: string,
    readonly stream: string,
    public cfg: HlsConfig,
    private readonly deps: HlsStreamDeps,
  ) {
    this.m3u8Rel = applyTemplate(cfg.m3u8File, { vhost, app, stream });
    const abs = jailedPath(cfg.path, this.m3u8Rel);
    if (!abs) throw new Error(`HLS playlist path "${this.m3u8Rel}" leaves hls_path`);
    this.m3u8Abs = abs;
    this.io = new IoQueue((err, what) => deps.log.error({ err: (err as Error).message, what }, 'HLS write failed; the stream goes on'));
    this.failures = new WriteFailures(deps.log, 'HLS');
    const v = cfg.vcodec === 'h265' || cfg.vcodec === 'hevc' ? 'HEVC' : cfg.vcodec === 'vn' ? null : 'H264';
    const a = cfg.acodec === 'mp3' ? 'MP3' : cfg.acodec === 'an' ? null : 'AAC';
    this.muxer = new TsMuxer({ video: v as TsVideoCodec | null, audio: a as TsAudioCodec | null });
  }

  /** The sequence number the next segment will get. */
  get sequence(): number {
    return this.nextSeq;
  }

  onPublish(): void {
    this.stopTimers();
    if (this.hadSegments) this.pendingDiscontinuity = true;
    this.hasVideo = false;
    this.epochMs = 0;
    this.grid.unpublished();
    this.aacDts.reset();
  }

  onFrame(f: MediaFrame): void {
    if (f.kind === 'script') return;
    const video = f.kind === 'video';
    if (f.header) return this.onHeader(f);
    if (video) {
      if (!this.muxer.videoReady || this.muxer.video !== f.codec) return;
    } else {
      if (f.codec === 'MP3' && this.muxer.audio !== 'MP3') this.muxer.setAudioConfig('MP3', null);
      if (!this.muxer.audioReady || this.muxer.audio !== f.codec) return;
    }
    if (this.restartPending && this.cur && (!this.hasVideo || (video && f.keyframe))) {
      // Reload: close the segment made with the old settings; the next starts with the new ones.
      this.restartPending = false;
      // (A segment just opened goes on with the new settings rather than being dropped as too short.)
      if (f.dts - this.cur.startDts >= MIN_SEGMENT_MS) {
        this.seal(f.dts);
        this.open(f.dts);
      }
    }
    const cur = this.cur;
    if (!cur) {
      this.restartPending = false;
      // A segment starts with a keyframe when there is video.
      if (this.hasVideo && !(video && f.keyframe)) return;
      if (this.align && this.hasVideo && !this.grid.startsSlot(f.dts + this.align.offsetMs())) return;
      this.open(f.dts);
    } else if (f.dts < cur.lastDts - BACKWARD_JUMP_MS) {
      this.seal(cur.lastDts);
      if (this.hasVideo && !(video && f.keyframe)) return;
      this.pendingDiscontinuity = true;
      this.open(f.dts);
    } else if (this.align && this.hasVideo && video ? f.keyframe && this.grid.slotOf(f.dts + this.align.offsetMs()) > this.grid.slotOf(cur.alignedStart ?? f.dts) : shouldCut(this.rules(), f.dts - cur.startDts, video ? 'video' : 'audio', f.keyframe, !this.hasVideo)) {
      this.seal(f.dts);
      this.open(f.dts);
    }
    let buf: Buffer;
    try {
      const audioDts = !video && !this.cfg.dtsDirectly && f.codec === 'AAC' ? this.aacDts.next(f.dts) : f.dts;
      buf = video ? this.muxer.muxVideo(f.dts, f.pts, f.keyframe, f.payload, false) : this.muxer.muxAudio(audioDts, f.payload);
    } catch (err) {
      if (!(err instanceof TsError)) throw err;
      if (!this.muxErrorLogged) this.deps.log.warn({ err: err.message }, 'HLS: frame dropped (cannot mux)');
      this.muxErrorLogged = true;
      return;
    }
    const s = this.cur!;
    if (video) s.videoFrames++;
    s.chunks.push(buf);
    s.bytes += buf.length;
    if (f.dts > s.lastDts) s.lastDts = f.dts;
  }

  /** The publisher left: the open segment is written and the playlist updated (still live); dispose is scheduled. */
  onUnpublish(): void {
    if (this.cur) this.seal(this.cur.lastDts + this.frameGuessMs());
    if (this.cfg.dispose > 0) {
      this.disposeTimer = setTimeout(() => this.dispose('no publisher'), this.cfg.dispose * 1000);
      this.disposeTimer.unref();
    }
    // No new segment will advance the retired files' clock: they go when the last playlist has played out.
    if (!this.cfg.cleanup) return;
    const keepMs = (this.listedSeconds() + this.targetDuration()) * 1000;
    this.retireTimer = setTimeout(() => this.io.push('retire', () => this.removeRetired(this.retired.drain())), keepMs);
    this.retireTimer.unref();
  }

  /**
   * SIGHUP changed this vhost's hls block: SRS restarts the HLS muxer. The
   * new settings (fragment, window, keys, ...) apply from now on; the open
   * segment, made with the old ones, is closed at the next keyframe (so that
   * the timeline has no gap) and the next segment starts with a new key.
   */
  restart(cfg: HlsConfig): void {
    this.cfg = cfg;
    this.key = null;
    this.restartPending = this.cur !== null;
    this.deps.log.info({ fragment: cfg.fragment, window: cfg.window, keys: cfg.keys }, 'HLS restarted with new settings');
  }

  /** Told when dispose() starts, so the owner forgets this stream. */
  onDisposed: (() => void) | null = null;

  /** Deletes the playlist and every segment of the window (hls_dispose, shutdown). */
  dispose(reason: string): Promise<void> {
    this.onDisposed?.();
    this.stopTimers();
    this.cur = null;
    // After the writes already queued, which may still add to the window.
    this.io.push('dispose', async () => {
      const keyFiles = new Set<string>();
      for (const s of this.window) if (s.keyAbs) keyFiles.add(s.keyAbs);
      if (this.key?.written) keyFiles.add(this.key.abs);
      this.key = null;
      const files = [this.m3u8Abs, ...this.window.map((s) => s.abs), ...this.slidOut.flatMap((r) => r.files), ...this.retired.drain().flat(), ...keyFiles];
      for (const s of this.window) this.forget(s);
      this.window.length = 0;
      this.slidOut = [];
      this.unlisted = [];
      this.playlist = null;
      this.playlistBody = null;
      this.deps.log.info({ reason, files: files.length }, 'HLS disposed');
      for (const f of files) await this.deps.store.remove(f);
    });
    return this.io.idle();
  }

  stopTimers(): void {
    if (this.disposeTimer) clearTimeout(this.disposeTimer);
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.disposeTimer = this.retireTimer = null;
  }

  private rules(): { fragment: number; tdRatio: number; aofRatio: number; waitKeyframe: boolean } {
    return { fragment: this.cfg.fragment, tdRatio: this.cfg.tdRatio, aofRatio: this.cfg.aofRatio, waitKeyframe: this.cfg.waitKeyframe };
  }

  private onHeader(f: MediaFrame): void {
    try {
      if (f.kind === 'video') {
        if (f.codec !== 'H264' && f.codec !== 'HEVC') return;
        this.muxer.setVideoConfig(f.codec, f.payload);
        this.hasVideo = true;
      } else if (f.codec === 'AAC' || f.codec === 'MP3') {
        this.muxer.setAudioConfig(f.codec, f.codec === 'AAC' ? f.payload : null);
        if (f.codec === 'AAC') {
          try {
            this.aacDts.sampleRate = parseAudioSpecificConfig(f.payload).sampleRate;
          } catch (err) {
            if (!(err instanceof CodecError)) throw err;
            this.aacDts.sampleRate = 0;
          }
          this.aacDts.reset();
        }
      }
    } catch (err) {
      if (!(err instanceof TsError)) throw err;
      this.deps.log.warn({ err: err.message }, 'HLS: bad sequence header ignored');
    }
  }

  /** ABR: the ladder's slots (unused outside a ladder). */
  private readonly grid = new AbrSlotGrid(() => this.cfg.fragment * 1000);

  private open(dts: number): void {
    if (this.epochMs === 0) this.epochMs = Date.now() - dts;
    const tables = this.muxer.tables();
    this.cur = { startDts: dts, lastDts: dts, chunks: [tables], bytes: tables.length, discontinuity: this.pendingDiscontinuity, videoFrames: 0, alignedStart: this.align && this.hasVideo ? dts + this.align.offsetMs() : null };
    this.pendingDiscontinuity = false;
  }

  private frameGuessMs(): number {
    return 40;
  }

  /** Closes the open segment at `endDts` and queues its file, the playlist and the cleanup. */
  private seal(endDts: number): void {
    const cur = this.cur;
    this.cur = null;
    if (!cur) return;
    const durMs = endDts - cur.startDts;
    if (durMs < MIN_SEGMENT_MS) {
      if (cur.discontinuity) this.pendingDiscontinuity = true;
      return;
    }
    this.hadSegments = true;
    const start = cur.alignedStart;
    const sourceEpoch = start === null ? 0 : (this.align?.epochMs() ?? 0);
    // ABR: dated on the source's clock, so that a player switching by date lands on the same media.
    const programDateTime = start !== null && sourceEpoch > 0 ? sourceEpoch + start : this.epochMs + cur.startDts;
    const slot = start === null ? null : this.grid.slotOf(start);
    if (slot !== null) this.grid.cut(slot);
    const p: SealedSegment = { cfg: this.cfg, chunks: cur.chunks, bytes: cur.bytes, durMs, discontinuity: cur.discontinuity, programDateTime, pub: this.deps.publisher(), slot, videoFrames: cur.videoFrames };
    this.io.push('segment', () => this.write(p));
  }

  /**
   * Runs in the write queue: names the segment, writes it (and its key), and
   * only then puts it in the window and rewrites the playlist. A failed write
   * removes nothing listed, lists nothing new, and sends no on_hls.
   */
  private async write(p: SealedSegment): Promise<void> {
    const { cfg } = p;
    // ABR: the first segment is numbered by its grid slot (then every rendition has the same number for the
    // same media); the next ones count on, since a playlist's numbers have no holes.
    const seq = p.slot === null || this.window.length > 0 ? this.nextSeq : Math.max(this.nextSeq, p.slot);
    const rel = applyTemplate(cfg.tsFile, { vhost: this.vhost, app: this.app, stream: this.stream, seq, durationMs: p.durMs });
    const abs = jailedPath(cfg.path, rel);
    if (!abs) {
      this.deps.log.error({ rel }, 'HLS segment path leaves hls_path; segment dropped');
      this.gap = true;
      return;
    }
    const key = cfg.keys ? this.keyFor(seq, cfg) : null;
    if (cfg.keys && !key) {
      this.gap = true;
      return;
    }
    let data: Buffer[];
    try {
      // The key file first: a player that sees the playlist can always fetch it.
      if (key && !key.written) {
        await this.deps.store.write(key.abs, [key.key]);
        key.written = true;
      }
      data = key ? encryptSegment(p.chunks, key) : p.chunks;
      await this.deps.store.write(abs, data);
    } catch (err) {
      // The store left no temp file; the number is given to the next segment.
      this.failures.fail(err, rel);
      this.gap = true;
      return;
    }
    this.failures.ok();
    this.nextSeq = seq + 1;
    const seg: HlsSegmentInfo = { seq, duration: p.durMs / 1000, uri: this.segmentUri(rel, cfg), rel, abs, discontinuity: p.discontinuity || this.gap, bytes: p.bytes, programDateTime: p.programDateTime, videoFrames: p.videoFrames };
    this.gap = false;
    if (key) {
      seg.key = { uri: key.uri, iv: ivHex(key.iv) };
      seg.keyAbs = key.abs;
    }
    seg.body = new MemoryBody(data.length === 1 ? data[0]! : Buffer.concat(data), 'video/MP2T', segmentCacheControl(cfg.window));
    this.deps.memory?.set(abs, seg.body);
    this.window.push(seg);
    const removed = this.slide();
    for (const r of removed) this.forget(r);
    let recent = 0;
    for (let i = this.window.length - 1, n = 0; i >= 0; i--, n++) {
      const w = this.window[i]!;
      if (n >= SEGMENTS_IN_MEMORY && recent >= MEMORY_SECONDS) {
        if (!w.body) break;
        this.forget(w);
      }
      recent += w.duration;
    }
    // Key files no segment of the window (nor the current key) uses any more.
    const inUse = new Set<string>();
    for (const w of this.window) if (w.keyAbs) inUse.add(w.keyAbs);
    if (this.key) inUse.add(this.key.abs);
    if (cfg.cleanup) {
      for (const r of removed) this.slidOut.push({ files: r.keyAbs && !inUse.has(r.keyAbs) ? [r.abs, r.keyAbs] : [r.abs], durMs: r.duration * 1000 });
    }
    this.segmentsWritten++;
    this.unlisted.push(this.notice(seg, p));
    const text = this.buildPlaylist();
    try {
      await this.deps.store.write(this.m3u8Abs, text);
    } catch (err) {
      // The old playlist stays on disk and in memory; it still lists the slid-out segments, so they stay too.
      this.failures.fail(err, this.m3u8Rel);
      return;
    }
    this.playlist = text;
    this.playlistBody = new MemoryBody(Buffer.from(text), 'application/vnd.apple.mpegurl', livePlaylistCacheControl(this.targetDuration()));
    const notices = this.unlisted;
    this.unlisted = [];
    for (const n of notices) this.deps.notify(n);
    const due = this.retired.advance(seg.duration * 1000);
    // Each stays its own duration plus that of the playlist that last listed it (RFC 8216 §6.2.2).
    const listedMs = this.listedSeconds() * 1000;
    for (const r of this.slidOut) this.retired.retire(r.files, r.durMs + listedMs);
    this.slidOut = [];
    await this.removeRetired(due);
  }

  /** Seconds of media the playlist lists. */
  private listedSeconds(): number {
    let sum = 0;
    for (const w of this.window) sum += w.duration;
    return sum;
  }

  /** Deletes retired files, except any name a segment of the window (or the current key) uses again. */
  private async removeRetired(due: string[][]): Promise<void> {
    if (due.length === 0) return;
    const live = new Set<string>();
    for (const w of this.window) {
      live.add(w.abs);
      if (w.keyAbs) live.add(w.keyAbs);
    }
    if (this.key) live.add(this.key.abs);
    for (const files of due) for (const f of files) if (!live.has(f)) await this.deps.store.remove(f);
  }

  private notice(seg: HlsSegmentInfo, p: SealedSegment): HlsSegmentNotice {
    const m3u8Dir = urlDirname(this.m3u8Rel);
    return {
      vhost: this.vhost,
      app: this.app,
      stream: this.stream,
      param: p.pub.param,
      tcUrl: p.pub.tcUrl,
      streamUrl: streamUrl(this.vhost, this.app, this.stream),
      file: configuredPath(p.cfg.path, seg.rel),
      cwd: process.cwd(),
      url: /^https?:\/\//.test(seg.uri) ? seg.uri : m3u8Dir ? `${m3u8Dir}/${seg.uri}` : seg.uri,
      m3u8: configuredPath(p.cfg.path, this.m3u8Rel),
      m3u8Url: this.m3u8Rel,
      duration: Math.round(seg.duration * 100) / 100,
      seq: seg.seq,
    };
  }

  /**
   * hls_keys: the key for segment `seq`, a new one (16 random bytes and a
   * random IV) every hls_fragments_per_key segments, in hls_key_file under
   * hls_key_file_path. Null (segment dropped) when that path leaves the jail.
   */
  private keyFor(seq: number, cfg: HlsConfig): CurrentKey | null {
    if (!startsNewKey(seq, cfg.fragmentsPerKey, this.key)) return this.key;
    const rel = applyTemplate(cfg.keyFile, { vhost: this.vhost, app: this.app, stream: this.stream, seq });
    const abs = jailedPath(cfg.keyFilePath, rel);
    if (!abs) {
      this.deps.log.error({ rel }, 'HLS key file path leaves hls_key_file_path; segment dropped');
      return null;
    }
    this.key = { ...newHlsKey(seq), rel, abs, uri: this.keyUri(rel, cfg), written: false };
    return this.key;
  }

  /**
   * SRS writes `hls_key_url + key file`. hls_key_url defaults to hls_path (a
   * directory, not a URL): then the URI is relative to the playlist, as
   * segment URIs are, and the static server serves the key from
   * hls_key_file_path. A `/` is put between a URL and the file when neither has one.
   */
  private keyUri(rel: string, cfg: HlsConfig): string {
    const base = cfg.keyUrl;
    if (!base || base === cfg.path) return posix.relative(urlDirname(this.m3u8Rel) || '.', rel);
    return base.endsWith('/') || rel.startsWith('/') ? base + rel : `${base}/${rel}`;
  }

  /** Keeps segments, newest first, until their total first exceeds hls_window; returns the ones dropped. */
  private slide(): HlsSegmentInfo[] {
    let sum = 0;
    let keepFrom = 0;
    for (let i = this.window.length - 1; i >= 0; i--) {
      sum += this.window[i]!.duration;
      if (sum > this.cfg.window) {
        keepFrom = i;
        break;
      }
    }
    return keepFrom > 0 ? this.window.splice(0, keepFrom) : [];
  }

  /** A segment's bytes leave memory (older than the newest few, slid out, or disposed). */
  private forget(s: HlsSegmentInfo): void {
    const body = s.body;
    if (!body) return;
    s.body = undefined;
    this.deps.memory?.delete(s.abs, body);
  }

  private targetDuration(): number {
    return hlsTargetDuration(
      this.window.map((s) => s.duration),
      this.cfg.fragment,
      this.cfg.tdRatio,
    );
  }

  buildPlaylist(): string {
    return writeMediaPlaylist({
      mediaSequence: this.window[0]?.seq ?? this.nextSeq,
      targetDuration: this.targetDuration(),
      segments: this.window,
    });
  }

  private segmentUri(rel: string, cfg: HlsConfig): string {
    const m3u8Dir = urlDirname(this.m3u8Rel);
    const relative = posix.relative(m3u8Dir || '.', rel);
    const prefix = cfg.entryPrefix;
    if (!prefix) return relative;
    if (prefix.endsWith('/')) return prefix + relative;
    return `${prefix}/${m3u8Dir ? `${m3u8Dir}/` : ''}${relative}`;
  }
}
