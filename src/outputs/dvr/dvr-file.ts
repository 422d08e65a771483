/**
 * One recording file on disk, append-only. It is written as `<file>.tmp`
 * and renamed on close, as SRS does: a reader never takes a file still being
 * written for a finished one. Both containers are written so that a prefix
 * plays (FLV tags, MP4 fragments), so after a crash the `.tmp` file plays up
 * to the last write the process made (the page cache survives a kill -9).
 *
 * Writes are queued in order and coalesced: what arrives within FLUSH_MS
 * (or up to FLUSH_BYTES) goes out in one writev. One write per frame cost
 * 100 FLV recordings 2.4x the CPU of this (docs/BENCHMARKS.md); a crash
 * loses at most FLUSH_MS more. The first failure is kept and every later
 * call is a no-op, so the recording sees one error.
 */
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FilePatch } from './dvr-muxer.js';

/** More than this waiting for the disk means it cannot keep up: the file is given up. */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;
/** Longest a chunk waits before it is written. */
const FLUSH_MS = 200;
/** Written at once when this much is waiting. */
const FLUSH_BYTES = 256 * 1024;

export class DvrFile {
  bytes = 0;
  error: Error | null = null;
  private fh: FileHandle | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    readonly abs: string,
    private readonly onError: (err: Error) => void,
  ) {}

  get tmp(): string {
    return `${this.abs}.tmp`;
  }

  /** Creates the directories and the temp file; rejects when the target already exists (SRS: no append). */
  static async create(abs: string, onError: (err: Error) => void): Promise<DvrFile> {
    const f = new DvrFile(abs, onError);
    await mkdir(dirname(abs), { recursive: true });
    const exists = await stat(abs).then(
      () => true,
      () => false,
    );
    if (exists) throw new Error(`${abs} exists`);
    f.fh = await open(f.tmp, 'wx');
    return f;
  }

  append(chunks: readonly Buffer[]): void {
    if (this.error || this.closed || chunks.length === 0) return;
    for (const c of chunks) {
      this.pending.push(c);
      this.pendingBytes += c.length;
    }
    if (this.pendingBytes > MAX_PENDING_BYTES) return this.fail(new Error(`disk too slow: ${this.pendingBytes} bytes waiting`));
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.writing || this.pending.length === 0) return;
    // Cleared after the drain has settled (never inside it: an empty drain runs synchronously).
    this.writing = this.drain().finally(() => {
      this.writing = null;
      if (this.pending.length > 0) this.flush();
    });
  }

  /** Writes what is queued, applies the patches, closes and renames. Resolves with the final path, or null when it failed. */
  async close(patches: readonly FilePatch[] = []): Promise<string | null> {
    this.closed = true;
    for (;;) {
      this.flush();
      if (!this.writing) break;
      await this.writing;
    }
    const fh = this.fh;
    this.fh = null;
    if (!fh) return null;
    try {
      if (!this.error) for (const p of patches) await fh.write(p.data, 0, p.data.length, p.offset);
    } catch (err) {
      this.fail(err as Error);
    }
    await fh.close().catch(() => undefined);
    if (this.bytes === 0) {
      await rm(this.tmp, { force: true }).catch(() => undefined);
      return null;
    }
    // A file cut short by an error is still kept: it plays up to its last complete write.
    await rename(this.tmp, this.abs);
    return this.abs;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 && !this.error && this.fh) {
      // writev takes at most IOV_MAX (1024) buffers per call; a GOP primed by an API start can be more.
      const batch = this.pending.length > 256 ? [Buffer.concat(this.pending)] : this.pending;
      const size = this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
      try {
        const r = await this.fh.writev(batch);
        this.bytes += r.bytesWritten;
        if (r.bytesWritten < size) throw new Error(`short write (${r.bytesWritten} of ${size} bytes)`);
      } catch (err) {
        this.fail(err as Error);
      }
    }
    this.pending = [];
    this.pendingBytes = 0;
  }

  private fail(err: Error): void {
    if (this.error) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.error = err;
    this.pending = [];
    this.pendingBytes = 0;
    this.onError(err);
  }
}
