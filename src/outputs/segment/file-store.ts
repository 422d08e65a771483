/**
 * Where HLS/DASH files go: async writes (temp file, then rename, so that a
 * reader never sees half a file), deletes, and one ordered queue per stream
 * so that a playlist never points at a segment not yet written. A failed
 * write rejects and leaves no temp file behind (a full disk must not fill up
 * further with files nobody reads); the caller keeps the segment out of its
 * playlist and logs the burst once (WriteFailures).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../log/logger.js';

export interface FileStore {
  /** Writes all chunks as one file, atomically (temp + rename); rejects, with no temp file left, on failure. */
  write(path: string, chunks: readonly Buffer[] | string): Promise<void>;
  remove(path: string): Promise<void>;
}

export class DiskFileStore implements FileStore {
  private readonly dirs = new Set<string>();

  async write(path: string, chunks: readonly Buffer[] | string): Promise<void> {
    const dir = dirname(path);
    if (!this.dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.dirs.add(dir);
    }
    const tmp = `${path}.tmp`;
    const data = typeof chunks === 'string' ? chunks : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks as Buffer[]);
    try {
      try {
        await writeFile(tmp, data);
      } catch (err) {
        // The directory may have been removed (dispose, an operator): retry once after mkdir.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(dir, { recursive: true });
        await writeFile(tmp, data);
      }
      await rename(tmp, path);
    } catch (err) {
      // ENOSPC leaves a partial (often 0-byte) temp file: remove it, or it eats the space the next write needs.
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

/** Runs async file tasks one after another; a failing task is reported and the queue goes on. */
export class IoQueue {
  private tail: Promise<void> = Promise.resolve();
  private pendingCount = 0;

  constructor(private readonly onError: (err: unknown, what: string) => void) {}

  get pending(): number {
    return this.pendingCount;
  }

  push(what: string, task: () => Promise<void>): void {
    this.pendingCount++;
    this.tail = this.tail
      .then(task)
      .catch((err: unknown) => this.onError(err, what))
      .finally(() => this.pendingCount--);
  }

  /** Resolves when everything queued so far is done. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/**
 * One warning per burst of failed segment writes (a full disk fails every
 * segment for as long as it lasts), one info line when writes work again.
 */
export class WriteFailures {
  private failed = 0;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  /** In a burst: the last write failed. */
  get failing(): boolean {
    return this.failed > 0;
  }

  fail(err: unknown, file: string): void {
    if (this.failed++ === 0) this.log.warn({ err: (err as Error).message, file }, `${this.what} segment write failed; segments are left out of the playlist until writes work again`);
  }

  ok(): void {
    if (this.failed === 0) return;
    this.log.info({ failed: this.failed }, `${this.what} segment writes work again`);
    this.failed = 0;
  }
}
