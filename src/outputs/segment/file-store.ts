/**
 * Where HLS/DASH files go: async writes (temp file, then rename, so that a
 * reader never sees half a file), deletes, and one ordered queue per stream
 * so that a playlist never points at a segment not yet written. An error is
 * logged by the caller and the stream goes on.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FileStore {
  /** Writes all chunks as one file, atomically (temp + rename). */
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
      await writeFile(tmp, data);
    } catch (err) {
      // The directory may have been removed (dispose, an operator): retry once after mkdir.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true });
      await writeFile(tmp, data);
    }
    await rename(tmp, path);
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
