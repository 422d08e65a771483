// Real inputs for the fuzz corpus: the test fixtures (ffmpeg output) and what
// the project's own encoders and RTMP client emit.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlvDemuxer, type FlvTag } from '../src/format/flv-demuxer.js';

/** The repository root, from fuzz/ or dist/fuzz/ alike. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('fuzz: repository root not found');
    dir = up;
  }
  return dir;
}

export function fixture(name: string): Buffer {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', name));
}

export function repoText(rel: string): string {
  return readFileSync(join(repoRoot(), rel), 'utf8');
}

/** The FLV fixtures, each cut to its first `max` bytes so one mutation stays cheap. */
export function flvFiles(max = 4096): Buffer[] {
  return ['h264-aac-160x120.flv', 'aac-48000-mono.flv', 'mp3-22050-mono.flv'].map((n) => fixture(n).subarray(0, max));
}

/** Every tag of the FLV fixtures (whole files). */
export function flvTags(): FlvTag[] {
  const out: FlvTag[] = [];
  for (const n of ['h264-aac-160x120.flv', 'aac-48000-mono.flv', 'mp3-22050-mono.flv']) out.push(...new FlvDemuxer().feed(fixture(n)));
  return out;
}

/** Names of the files in a repository folder. */
export function repoDir(rel: string): string[] {
  return readdirSync(join(repoRoot(), rel));
}
