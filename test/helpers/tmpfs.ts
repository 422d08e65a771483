/**
 * A small tmpfs for full-disk tests and the attack replay: mounted on a fresh
 * temp dir (needs root), filled to ENOSPC on demand, unmounted at the end or
 * at process exit whatever happens.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  /** The mount point (an empty temp dir when the mount failed). */
  dir: string;
  /** Null when mounted, else why not (not root, no permission in a container, no tmpfs). */
  skip: string | null;
  /** Idempotent: unmounts (lazily if busy) and removes the mount point. */
  cleanup(): void;
}

export function mountTmpfs(sizeMb: number, prefix: string): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let mounted = false;
  let skip: string | null = null;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    skip = `cannot mount a tmpfs (needs root): ${(e.stderr?.toString() || e.message).trim()}`;
  }
  const cleanup = (): void => {
    if (mounted) {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
      mounted = false;
    }
    if (existsSync(dir)) rmdirSync(dir);
  };
  if (skip) cleanup();
  process.on('exit', cleanup);
  return { dir, skip, cleanup };
}

/** Writes `path` until ENOSPC, in ever smaller pieces, so that not even a small file fits beside it. */
export function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (let size = 64 * 1024; size >= 1; size = Math.floor(size / 4)) {
      const buf = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
