/**
 * SRS's `pid` file: written at start, held so that a second server on the same
 * file refuses to start, removed on a clean exit. Node has no flock, so the
 * lock is an exclusive create (`wx`); a file left by a crashed run holds the
 * pid of a process that no longer exists and is taken over.
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export class PidFileBusyError extends Error {
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(`another server (pid ${pid}) holds the pid file ${file}; stop it first or set another \`pid\` in the config`);
    this.name = 'PidFileBusyError';
  }
}

export interface PidFile {
  readonly file: string;
  /** Removes the file if it is still ours (another run may have taken over a file we lost). */
  release(): void;
}

/** True when a process with this pid exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function acquirePidFile(path: string): PidFile {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  // Two tries: the second after removing a stale file.
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = readPid(file);
      if (pid !== null && pid !== process.pid && alive(pid)) throw new PidFileBusyError(file, pid);
      unlinkSync(file);
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return {
      file,
      release() {
        if (readPid(file) !== process.pid) return;
        try {
          unlinkSync(file);
        } catch {
          // already gone: nothing to release
        }
      },
    };
  }
  throw new Error(`cannot create the pid file ${file}: another server is starting on it`);
}
