/**
 * vhost.transcode with real FFmpeg: a 640x360 publish is transcoded by an
 * `ld` engine to 320x180 at the configured bitrate (±30 %, measured from the
 * packets ffprobe reads); the transcoded stream is not transcoded again (SRS's
 * loop rule: one child, although `transcode live` matches it too); the child
 * killed from outside comes back and the output resumes; at unpublish the
 * child is gone within 2 s. An encoder FFmpeg lacks: a log line, backoff,
 * restarts counted, the stream itself still plays.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { decodeFrames, probe, publish, run, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
ff_log_dir ./fflogs;
http_api { enabled on; listen {{API}}; }
vhost __defaultVhost__ {
  transcode live {
    enabled on;
    ffmpeg ./objs/ffmpeg/bin/ffmpeg;
    engine ld {
      enabled on;
      vcodec libx264; vbitrate 300; vfps 25; vwidth 320; vheight 180; vthreads 2; vprofile main; vpreset veryfast;
      vparams { g 25; }
      acodec libfdk_aac; abitrate 64; asample_rate 44100; achannels 2;
      output rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine];
    }
  }
  transcode other/bad {
    enabled on;
    ffmpeg ffmpeg;
    engine nosuch {
      enabled on;
      vcodec libnosuch264; vbitrate 300; vprofile main; vpreset veryfast;
      acodec copy;
      output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine];
    }
  }
}
`;

interface ProcessInfo {
  kind: string;
  label: string;
  command: string;
  pid: number | null;
  state: string;
  restarts: number;
}

let server: RunningServer | undefined;
const procs: Proc[] = [];
after(async () => {
  for (const p of procs) await p.stop();
  await server?.stop();
});

async function processes(s: RunningServer): Promise<ProcessInfo[]> {
  return ((await (await fetch(s.apiUrl('/api/v1/processes'))).json()) as { processes: ProcessInfo[] }).processes;
}

function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** Video bitrate (kbit/s) over `seconds` of a live URL, from the packet sizes and their times. */
async function videoKbps(url: string, seconds: number): Promise<number> {
  const p = run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-read_intervals', `%+${seconds}`, '-select_streams', 'v', '-show_entries', 'packet=size,dts_time', '-of', 'csv=p=0', url], 40_000);
  let out = '';
  p.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  assert.equal(await p.done, 0, p.stderr());
  const rows = out.trim().split('\n').map((l) => l.split(',').map(Number) as [number, number]);
  // Skip the first second: the GOP cache hands a player a burst.
  const t0 = rows[0]![0] + 1;
  const kept = rows.filter(([t]) => t >= t0);
  const span = kept[kept.length - 1]![0] - kept[0]![0];
  const bytes = kept.reduce((n, [, size]) => n + size, 0);
  return (bytes * 8) / span / 1000;
}

test('a transcode engine makes 320x180 at its bitrate, is not transcoded again, comes back when killed, and is gone within 2 s of unpublish', async () => {
  server = await startServer({ config: CONFIG });
  const s = server;
  const pub = publish(s.rtmpUrl('live/cam'), { seconds: 120, size: '640x360' });
  procs.push(pub);

  const p = await probe(s.rtmpUrl('live/cam_ld'), 4);
  const v = p.streams.find((x) => x.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(v?.width, 320);
  assert.equal(v?.height, 180);
  const a = p.streams.find((x) => x.codec_type === 'audio');
  assert.equal(a?.codec_name, 'aac');
  assert.equal(a?.sample_rate, '44100');
  const kbps = await videoKbps(s.rtmpUrl('live/cam_ld'), 8);
  assert.ok(kbps > 300 * 0.7 && kbps < 300 * 1.3, `video bitrate ${kbps.toFixed(0)} kbit/s, configured 300`);

  // SRS's loop rule: cam_ld matches `transcode live` too, and is not transcoded again.
  const list = await processes(s);
  assert.deepEqual(list.map((x) => `${x.kind} ${x.label}`), ['transcode /live/cam ld']);
  assert.ok(s.logs.some((l) => l.msg === 'stream is the output of a transcode: not transcoded again (SRS loop rule)' && l.stream === '/live/cam_ld'));
  assert.ok(s.logs.some((l) => l.msg === 'ffmpeg has no libfdk_aac encoder: using aac'));
  assert.match(list[0]!.command, /^ffmpeg -loglevel info -f flv -i rtmp:\/\/127\.0\.0\.1:\d+\/live\/cam\?vhost=__defaultVhost__ -vcodec libx264 -b:v 300000 -r 25 -s 320x180 -aspect 320:180 -threads 2 -profile:v main -preset veryfast -g 25 -acodec aac -b:a 64000 -ar 44100 -ac 2 -f flv -y rtmp:\/\/127\.0\.0\.1:\d+\/live\?vhost=__defaultVhost__\/cam_ld$/);

  // Killed from outside: back after its backoff, and the output plays again.
  const first = list[0]!;
  process.kill(first.pid!, 'SIGKILL');
  assert.ok(await waitFor(async () => (await processes(s)).some((x) => x.restarts === 1 && x.pid !== null && x.pid !== first.pid), 20_000), 'transcode restarted');
  const again = await decodeFrames(s.rtmpUrl('live/cam_ld'), 2);
  assert.ok(again.frames >= 25, `frames after the restart: ${again.frames}`);

  // Unpublish: the child is gone within 2 s.
  const pid = (await processes(s))[0]!.pid!;
  await pub.stop();
  const t0 = Date.now();
  assert.ok(await waitFor(() => !alive(pid), 2000), `transcode ${pid} still alive 2 s after unpublish`);
  const took = Date.now() - t0;
  assert.ok(await waitFor(async () => (await processes(s)).length === 0, 2000));
  assert.ok(took <= 2000, `took ${took} ms`);
});

test('an encoder FFmpeg lacks: a clear log line, backoff and restarts; the stream itself still plays', async () => {
  const s = server!;
  const pub = publish(s.rtmpUrl('other/bad'), { seconds: 60 });
  procs.push(pub);
  const line = await s.waitForLog((l) => l.msg === 'ffmpeg has no such encoder: the engine will fail and be retried with backoff', 20_000);
  assert.equal(line.codec, 'libnosuch264');
  assert.ok(await waitFor(async () => ((await processes(s)).find((x) => x.label === '/other/bad nosuch')?.restarts ?? 0) >= 1, 20_000), 'retried');
  await s.waitForLog((l) => l.msg === 'child process exited: restarting after backoff' && l.kind === 'transcode', 10_000);
  assert.match(readFileSync(`${s.dir}/fflogs/ffmpeg-encoder-__defaultVhost__-other-bad-nosuch.log`, 'utf8'), /Unknown encoder 'libnosuch264'|Encoder not found/);
  const d = await decodeFrames(s.rtmpUrl('other/bad'), 2);
  assert.ok(d.frames >= 25, `the source still plays: ${d.frames}`);
  await pub.stop();
  assert.ok(await waitFor(async () => (await processes(s)).length === 0, 5000), 'stopped at unpublish');
});
