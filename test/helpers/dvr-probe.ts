/** ffprobe of a recorded file: streams with decoded frame counts, and the container's duration. */
import { run } from './ffmpeg.js';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface FileProbe {
  format: string;
  duration: number;
  video?: { codec: string; width: number; height: number; frames: number };
  audio?: { codec: string; sampleRate: number; frames: number };
}

export async function probeFile(path: string): Promise<FileProbe> {
  const p = run('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', path], 60_000);
  let out = '';
  p.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await p.done;
  if (code !== 0) throw new Error(`ffprobe ${path} exited ${code}: ${p.stderr()}`);
  const j = JSON.parse(out) as {
    format: { format_name: string; duration?: string };
    streams: { codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string; nb_read_frames?: string }[];
  };
  const r: FileProbe = { format: j.format.format_name, duration: Number(j.format.duration ?? 'NaN') };
  for (const s of j.streams) {
    if (s.codec_type === 'video') r.video = { codec: s.codec_name, width: s.width ?? 0, height: s.height ?? 0, frames: Number(s.nb_read_frames ?? 0) };
    if (s.codec_type === 'audio') r.audio = { codec: s.codec_name, sampleRate: Number(s.sample_rate ?? 0), frames: Number(s.nb_read_frames ?? 0) };
  }
  return r;
}

/** Every file under dir, recursively, as paths relative to it. */
export function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, `${prefix}${n}/`));
    else out.push(`${prefix}${n}`);
  }
  return out;
}
