/**
 * Where a supervised child's stdout and stderr go: SRS's `ff_log_dir` and a
 * name that says which child (`ffmpeg-ingest-<vhost>-<app>-<stream>.log`).
 * `/dev/null` discards them (null); a name that would leave the directory is
 * refused (null too, with the child still run).
 */
import { jailedPath } from '../core/path-jail.js';

const NULL_LOG = '/dev/null';

/** `<dir>/<parts joined by '-'>.log`, '/' in a part made '_'; null when discarded or unsafe. */
export function ffLogFile(dir: string, parts: readonly string[]): string | null {
  if (dir === NULL_LOG) return null;
  return jailedPath(dir, `${parts.join('-').replaceAll('/', '_')}.log`);
}
