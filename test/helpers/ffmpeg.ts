/**
 * Real clients: ffmpeg publishes a generated testsrc2 + sine (H.264 + AAC),
 * ffmpeg/ffprobe play. Every process started here is killed by `stop()` or
 * by its own time limit.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Proc {
  proc: ChildProcess;
  stderr(): string;
  done: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function run(cmd: string, args: string[], timeoutMs = 60_000): Proc {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  proc.stdout!.resume();
  const done = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const killer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  void done.then(() => clearTimeout(killer));
  return {
    proc,
    stderr: () => err,
    done,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        const code = await done;
        clearTimeout(t);
        return code;
      }
      return proc.exitCode;
    },
  };
}

export interface PublishOptions {
  seconds?: number;
  size?: string;
  fps?: number;
  gop?: number;
  /** libx264 (default) or libx265 (enhanced RTMP). */
  vcodec?: 'libx264' | 'libx265';
  audio?: boolean;
  video?: boolean;
  realtime?: boolean;
}

/** `ffmpeg -re` publishing testsrc2 + sine to `url` as FLV. */
export function publish(url: string, o: PublishOptions = {}): Proc {
  const seconds = o.seconds ?? 10;
  const fps = o.fps ?? 25;
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  if (o.realtime !== false) args.push('-re');
  if (o.video !== false) args.push('-f', 'lavfi', '-i', `testsrc2=size=${o.size ?? '320x240'}:rate=${fps}`);
  if (o.audio !== false) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100');
  args.push('-t', String(seconds));
  if (o.video !== false) {
    const vc = o.vcodec ?? 'libx264';
    args.push('-c:v', vc, '-preset', 'ultrafast', '-g', String(o.gop ?? fps * 2));
    if (vc === 'libx264') args.push('-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0');
    else args.push('-x265-params', 'log-level=error');
  }
  if (o.audio !== false) args.push('-c:a', 'aac', '-b:a', '64k');
  args.push('-f', 'flv', url);
  return run('ffmpeg', args, (seconds + 30) * 1000);
}

export interface ProbeStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
}

export interface ProbePacket {
  stream_index: number;
  dts_time?: string;
  pts_time?: string;
  flags: string;
}

export interface ProbeResult {
  streams: ProbeStream[];
  packets: ProbePacket[];
}

/** ffprobe a live URL for `seconds` of packets. */
export async function probe(url: string, seconds = 3): Promise<ProbeResult> {
  const p = run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-read_intervals', `%+${seconds}`, '-show_streams', '-show_packets', '-of', 'json', url], 30_000);
  let out = '';
  p.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await p.done;
  if (code !== 0) throw new Error(`ffprobe ${url} exited ${code}: ${p.stderr()}`);
  const json = JSON.parse(out) as { streams?: ProbeStream[]; packets?: ProbePacket[] };
  return { streams: json.streams ?? [], packets: json.packets ?? [] };
}

/** Decodes `seconds` of a live URL with ffmpeg; returns the number of video frames decoded. */
export async function decodeFrames(url: string, seconds = 3): Promise<{ frames: number; code: number | null; stderr: string }> {
  const p = run('ffmpeg', ['-hide_banner', '-nostdin', '-rw_timeout', '10000000', '-i', url, '-t', String(seconds), '-f', 'null', '-'], Math.max(40_000, (seconds + 30) * 1000));
  const code = await p.done;
  const m = [...p.stderr().matchAll(/frame=\s*(\d+)/g)];
  return { frames: m.length ? Number(m[m.length - 1]![1]) : 0, code, stderr: p.stderr() };
}

/** Asserts per-stream dts never goes backwards; returns the number of packets checked. */
export function monotonicDts(packets: ProbePacket[]): { ok: boolean; detail: string } {
  const last = new Map<number, number>();
  for (const p of packets) {
    if (p.dts_time === undefined) continue;
    const t = Number(p.dts_time);
    const prev = last.get(p.stream_index);
    if (prev !== undefined && t < prev) return { ok: false, detail: `stream ${p.stream_index}: dts ${t} after ${prev}` };
    last.set(p.stream_index, t);
  }
  return { ok: true, detail: '' };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
