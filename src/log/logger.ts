/**
 * Logging through pino. Every connection logs through a child logger that
 * carries its connection id (`cid`, SRS's context id) and, once known, its
 * stream, so that `grep cid` gives one session's whole story.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { randomBytes } from 'node:crypto';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Pretty lines for a terminal; JSON otherwise (the default when stdout is not a TTY). */
  pretty?: boolean;
  /** Write to this file instead of stdout. */
  file?: string;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return createReopenableLogger(opts).logger;
}

/** A logger and the means to reopen its file (SIGUSR1, after logrotate moved it). */
export interface ReopenableLogger {
  logger: Logger;
  /** Opens the log file's path anew (a no-op for stdout): new lines go to the new file. */
  reopen(): void;
}

export function createReopenableLogger(opts: LoggerOptions = {}): ReopenableLogger {
  const level = opts.level ?? 'info';
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && !opts.file);
  if (pretty) {
    const logger = pino({
      level,
      base: { pid: process.pid },
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'hostname' } },
    });
    return { logger, reopen: () => undefined };
  }
  // SonicBoom keeps the path and reopens it by name, which is what logrotate's
  // `mv srs.log srs.log.1; kill -USR1` needs (the moved file keeps its old lines).
  const file = opts.file;
  const dest = file ? pino.destination({ dest: file, mkdir: true, sync: false }) : pino.destination({ sync: false });
  const logger = pino({ level, base: { pid: process.pid } }, dest);
  return { logger, reopen: () => (file ? dest.reopen() : undefined) };
}

/** A logger that drops everything: the default when Sluice is embedded without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** SRS-style ids: `n` chars of [0-9a-z] (connection ids, hls_ctx, service id). */
export function randomId(n = 8): string {
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += ID_ALPHABET[bytes[i]! % ID_ALPHABET.length];
  return out;
}
