/**
 * SRS keeps `server_id` across restarts in a file next to the pid file
 * (`./objs/srs.pid` → `./objs/srs.id`), so that hooks, the API and the
 * exporter see one server, not a new one after every restart.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomId } from '../log/logger.js';

/** SRS's rule: the pid file's `.pid` becomes `.id` (`.id` is added when it has no `.pid`). */
export function serverIdFile(pidFile: string): string {
  return pidFile.endsWith('.pid') ? `${pidFile.slice(0, -'.pid'.length)}.id` : `${pidFile}.id`;
}

const VALID_ID = /^[\w.:-]{1,64}$/;

/** The id kept in `file`, or a new `vid-xxxxxxx` written there. */
export function persistentServerId(file: string): string {
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (VALID_ID.test(kept)) return kept;
  } catch {
    // no file yet: make one
  }
  const id = `vid-${randomId(7)}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}
