/**
 * The recording of one stream (SRS-CONTRACTS §5.10): files opened and closed
 * by the plan, timestamps from 0 in each file (the DVR's own `time_jitter`),
 * sequence headers and metadata put at the head of every file.
 *
 * session plan: one file from the first keyframe to stop(). segment plan: a
 * new file once the current one spans `dvr_duration`, at a keyframe when
 * `dvr_wait_keyframe` is on — H.264, H.265 and AV1 keyframes alike (SRS
 * knows only H.264's). An MP4 file is also cut when a sequence header
 * changes, since its tracks are fixed in the moov.
 *
 * A write error (full disk, permissions) ends the file there (kept, renamed,
 * reported like any closed file) with one error line; the stream goes on and
 * a new file is tried at a later keyframe, with a backoff that doubles up to
 * 30 s while the error lasts.
 */
import { MediaFrame } from '../../codec/media-frame.js';
import type { DvrConfig } from '../../config/vhost-config.js';
import type { Logger } from '../../log/logger.js';
import { clip } from '../../log/clip.js';
import { flvBodyFromFrame } from '../../format/flv.js';
import { TimeJitter } from '../../live/time-jitter.js';
import { dvrTarget, type DvrTarget } from './dvr-path.js';
import { DvrFile } from './dvr-file.js';
import type { DvrMuxer } from './dvr-muxer.js';
import { FlvDvrMuxer } from './flv-dvr-muxer.js';
import { Mp4DvrMuxer } from './mp4-dvr-muxer.js';

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** A file the recording has closed (for on_dvr). */
export interface DvrFileNotice {
  vhost: string;
  app: string;
  stream: string;
  /** As configured, variables expanded (relative paths stay relative). */
  file: string;
  abs: string;
  cwd: string;
  bytes: number;
  durationMs: number;
  /** Why it closed early, when a write failed. */
  error?: string;
  /** The publisher when the recording started (it may be gone when the file closes). */
  publisher: DvrPublisher;
}

interface DvrPublisher {
  id: string;
  ip: string;
  /** Query with its leading `?`, or ''. */
  param: string;
  tcUrl: string;
}

export interface DvrRecordingInfo {
  vhost: string;
  app: string;
  stream: string;
  /** 'config' (dvr_apply) or 'api'. */
  by: 'config' | 'api';
  plan: 'session' | 'segment';
  file: string | null;
  bytes: number;
  durationMs: number;
  files: number;
  startedAt: number;
  error: string | null;
}

interface OpenFile {
  target: DvrTarget;
  file: DvrFile | null;
  muxer: DvrMuxer;
  jitter: TimeJitter;
  /** Source dts of the first frame (segment plan). */
  startDts: number;
  lastDts: number;
  /** Settles when the file is created (or its creation failed). */
  ready: Promise<void>;
  held: Buffer[];
}

export interface DvrRecordingOptions {
  vhost: string;
  app: string;
  stream: string;
  cfg: DvrConfig;
  utc: boolean;
  by: 'config' | 'api';
  publisher: DvrPublisher;
  log: Logger;
  onFile: (n: DvrFileNotice) => void;
  now?: () => Date;
}

export class DvrRecording {
  readonly startedAt = Date.now();
  filesClosed = 0;
  bytesClosed = 0;
  private metadata: MediaFrame | null = null;
  private videoHeader: MediaFrame | null = null;
  private audioHeader: MediaFrame | null = null;
  private cur: OpenFile | null = null;
  private retryAt = 0;
  private retryMs = RETRY_FIRST_MS;
  private failing = false;
  private lastError: string | null = null;
  private closing: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly log: Logger;
  private readonly warned = new Set<string>();

  constructor(private readonly o: DvrRecordingOptions) {
    this.log = o.log;
  }

  /** Headers (and a GOP) already known to the source, for a recording that starts mid-stream. */
  prime(frames: readonly (MediaFrame | null)[]): void {
    for (const f of frames) if (f) this.onFrame(f);
  }

  onFrame(f: MediaFrame): void {
    if (this.stopped) return;
    if (f.kind === 'script') {
      this.metadata = f;
      if (this.cur) this.write(this.cur, f, true);
      return;
    }
    if (f.header) {
      const prev = f.kind === 'video' ? this.videoHeader : this.audioHeader;
      if (f.kind === 'video') this.videoHeader = f;
      else this.audioHeader = f;
      if (!this.cur) return;
      if (this.cur.target.format === 'mp4' && prev && !prev.payload.equals(f.payload)) this.closeCurrent();
      else this.write(this.cur, f, true);
      return;
    }
    const hasVideo = this.videoHeader !== null;
    const cut = f.kind === 'video' ? f.keyframe : !hasVideo;
    if (this.cur && this.cur.file?.error) this.closeCurrent();
    if (this.cur && this.o.cfg.plan === 'segment' && f.dts - this.cur.startDts >= this.o.cfg.duration * 1000 && (!this.o.cfg.waitKeyframe || cut)) this.closeCurrent();
    if (!this.cur) {
      if (!cut || Date.now() < this.retryAt) return;
      this.open(f.dts);
      if (!this.cur) return;
    }
    this.write(this.cur, f, false);
    if (this.failing && this.cur.file && this.cur.file.bytes > 0 && !this.cur.file.error) this.recovered();
  }

  info(): DvrRecordingInfo {
    const c = this.cur;
    return {
      vhost: this.o.vhost,
      app: this.o.app,
      stream: this.o.stream,
      by: this.o.by,
      plan: this.o.cfg.plan,
      file: c?.target.file ?? null,
      bytes: this.bytesClosed + (c?.file?.bytes ?? 0),
      durationMs: c ? Math.max(0, c.lastDts - c.startDts) : 0,
      files: this.filesClosed,
      startedAt: this.startedAt,
      error: this.lastError,
    };
  }

  /** Ends the recording: the open file is finalized (all queued writes, renamed, reported). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closeCurrent();
    await this.closing;
  }

  private open(dts: number): void {
    const now = this.o.now?.() ?? new Date();
    const target = dvrTarget(this.o.cfg.path, { vhost: this.o.vhost, app: this.o.app, stream: this.o.stream, now, utc: this.o.utc });
    if (!target) {
      this.stopped = true;
      this.log.error({ dvr_path: this.o.cfg.path, stream: clip(this.o.stream) }, 'DVR refused: the file would leave the dvr_path directory');
      return;
    }
    const muxer: DvrMuxer = target.format === 'mp4' ? new Mp4DvrMuxer() : new FlvDvrMuxer();
    const cur: OpenFile = { target, file: null, muxer, jitter: new TimeJitter(this.o.cfg.timeJitter), startDts: dts, lastDts: dts, ready: Promise.resolve(), held: [] };
    cur.ready = DvrFile.create(target.abs, (err) => this.failed(err, target)).then(
      (file) => {
        cur.file = file;
        file.append(cur.held);
        cur.held = [];
        if (this.cur !== cur) return; // closed before it was created: closeCurrent waits for ready
      },
      (err: Error) => {
        cur.held = [];
        this.failed(err, target);
        if (this.cur === cur) this.cur = null;
      },
    );
    this.cur = cur;
    for (const h of [this.metadata, this.videoHeader, this.audioHeader]) if (h) this.write(cur, h, true);
  }

  private write(cur: OpenFile, f: MediaFrame, header: boolean): void {
    let out: Buffer[];
    try {
      if (cur.target.format === 'flv') flvBodyFromFrame(f); // built once, on the shared frame
      let dts: number;
      if (header) dts = cur.jitter.mode === 'off' ? cur.startDts : 0;
      else {
        dts = cur.jitter.correct(f.dts, false);
        cur.lastDts = f.dts;
      }
      const copy = new MediaFrame(f.kind, f.codec, dts, dts + (f.pts - f.dts), f.keyframe, f.header, f.payload, f.flvBody);
      out = cur.muxer.push(copy);
      for (const s of cur.muxer.skipped.splice(0)) {
        if (!this.warned.has(s)) this.log.warn({ file: clip(cur.target.file) }, `DVR: ${s}`);
        this.warned.add(s);
      }
    } catch (err) {
      this.failed(err as Error, cur.target);
      this.stopped = true;
      this.closeCurrent();
      return;
    }
    if (out.length === 0) return;
    if (cur.file) cur.file.append(out);
    else cur.held.push(...out);
  }

  private closeCurrent(): void {
    const cur = this.cur;
    this.cur = null;
    if (!cur) return;
    let tail: Buffer[] = [];
    try {
      tail = cur.muxer.end();
    } catch {
      tail = [];
    }
    const durationMs = Math.max(0, cur.lastDts - cur.startDts);
    const prev = this.closing;
    this.closing = (async () => {
      await prev;
      await cur.ready;
      const file = cur.file;
      if (!file) return;
      file.append(tail);
      let done: string | null = null;
      try {
        done = await file.close(cur.muxer.patches());
      } catch (err) {
        this.failed(err as Error, cur.target);
      }
      if (!done) return;
      this.filesClosed++;
      this.bytesClosed += file.bytes;
      if (!file.error) this.recovered();
      const notice: DvrFileNotice = {
        vhost: this.o.vhost,
        app: this.o.app,
        stream: this.o.stream,
        file: cur.target.file,
        abs: done,
        cwd: process.cwd(),
        bytes: file.bytes,
        durationMs,
        publisher: this.o.publisher,
        ...(file.error ? { error: file.error.message } : {}),
      };
      this.log.info({ file: cur.target.file, bytes: file.bytes, ms: durationMs }, 'DVR file closed');
      this.o.onFile(notice);
    })();
  }

  private failed(err: Error, target: DvrTarget): void {
    this.lastError = err.message;
    this.retryAt = Date.now() + this.retryMs;
    if (!this.failing) this.log.error({ file: clip(target.file), err: clip(err.message), retryMs: this.retryMs }, 'DVR write failed; recording of this stream stops and is retried; the stream goes on');
    else this.log.debug({ file: clip(target.file), err: clip(err.message) }, 'DVR write failed again');
    this.failing = true;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.retryMs = RETRY_FIRST_MS;
    this.lastError = null;
    this.log.info({ stream: clip(this.o.stream) }, 'DVR writes work again; recording resumed');
  }
}
