/**
 * Which FFmpeg runs, and what it can encode. SRS configs name their bundled
 * build (`ffmpeg ./objs/ffmpeg/bin/ffmpeg;`); Sluice uses Debian's: a
 * configured path that does not exist falls back to `ffmpeg` on PATH with
 * one log line. The encoder list (`ffmpeg -encoders`, read once per binary)
 * lets a missing codec be named in the log before FFmpeg fails on it, and
 * SRS's `libfdk_aac` (absent from Debian's build) become `aac`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from '../log/logger.js';
import { clip } from '../log/clip.js';
import type { TranscodeEngineConfig } from '../config/vhost-config.js';
import { engineEncoders } from './engine-argv.js';

const warnedPaths = new Set<string>();

/** The binary to spawn for a configured `ffmpeg` directive ('' = PATH). */
export function resolveFfmpeg(configured: string, log: Logger): string {
  if (configured === '' || !configured.includes('/')) return configured || 'ffmpeg';
  if (existsSync(configured)) return configured;
  if (!warnedPaths.has(configured)) {
    warnedPaths.add(configured);
    log.warn({ ffmpeg: clip(configured, 200) }, 'configured ffmpeg not found: using ffmpeg from PATH');
  }
  return 'ffmpeg';
}

const encoderLists = new Map<string, Promise<Set<string> | null>>();

/** The encoder names of a binary; null when it cannot be run (the child's own start then says why). */
export function ffmpegEncoders(bin: string): Promise<Set<string> | null> {
  let p = encoderLists.get(bin);
  if (!p) {
    p = new Promise((resolve) => {
      execFile(bin, ['-hide_banner', '-encoders'], { timeout: 15_000, maxBuffer: 4 << 20 }, (err, stdout) => {
        if (err) return resolve(null);
        const names = new Set<string>();
        for (const line of stdout.split('\n')) {
          const m = /^\s*[VAS][F.][S.][X.][B.][D.]\s+(\S+)/.exec(line);
          if (m) names.add(m[1]!);
        }
        resolve(names);
      });
    });
    encoderLists.set(bin, p);
  }
  return p;
}

/**
 * The engine as it will run with this binary: `libfdk_aac` → `aac` when the
 * binary lacks it (a log line says so); any other missing encoder is logged
 * and left as is (FFmpeg exits on it; the supervisor backs off).
 */
export function fitEngine(e: TranscodeEngineConfig, encoders: Set<string> | null, log: Logger): TranscodeEngineConfig {
  if (!encoders) return e;
  let out = e;
  if (e.acodec === 'libfdk_aac' && !encoders.has('libfdk_aac')) {
    log.info({ engine: e.name }, 'ffmpeg has no libfdk_aac encoder: using aac');
    out = { ...e, acodec: 'aac' };
  }
  for (const codec of engineEncoders(out)) {
    if (!encoders.has(codec)) log.error({ engine: e.name, codec: clip(codec, 100) }, 'ffmpeg has no such encoder: the engine will fail and be retried with backoff');
  }
  return out;
}
