/**
 * vhost.transcode on reload (SIGHUP), with real FFmpeg: a changed engine
 * restarts its child with the new arguments (the output, probed, changes
 * from 320x180 to 160x90); removing the transcode block stops the child
 * within 2 s of the signal, and the source goes on playing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { decodeFrames, probe, publish, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
vhost __defaultVhost__ {
  transcode live {
    enabled on;
    ffmpeg ffmpeg;
    engine ld {
      enabled on;
      vcodec libx264; vbitrate 200; vwidth 320; vheight 180; vthreads 1; vprofile baseline; vpreset ultrafast;
      acodec aac; abitrate 32; asample_rate 44100; achannels 2;
      output rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine];
    }
  }
}
`;

interface ProcessInfo {
  label: string;
  command: string;
  pid: number | null;
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

async function videoSize(url: string): Promise<string> {
  const v = (await probe(url, 3)).streams.find((x) => x.codec_type === 'video');
  return `${v?.width}x${v?.height}`;
}

/** Rewrites the config and sends SIGHUP; resolves when the server says it reloaded. */
async function reload(s: RunningServer, edit: (text: string) => string): Promise<void> {
  const before = s.logs.length;
  writeFileSync(s.configFile, edit(readFileSync(s.configFile, 'utf8')));
  s.signal('SIGHUP');
  await s.waitForLog((l) => l.msg === 'config reloaded' && s.logs.indexOf(l) >= before, 10_000);
}

test('a reload that changes an engine restarts its child with the new size; removing the transcode block stops it within 2 s', async () => {
  server = await startServer({ config: CONFIG });
  const s = server;
  const pub = publish(s.rtmpUrl('live/cam'), { seconds: 120, size: '640x360', fps: 10, gop: 10 });
  procs.push(pub);

  assert.equal(await videoSize(s.rtmpUrl('live/cam_ld')), '320x180');
  const [first] = await processes(s);
  assert.ok(first?.pid, 'the transcode child runs');
  assert.match(first.command, / -s 320x180 /);

  await reload(s, (t) => t.replace('vwidth 320; vheight 180;', 'vwidth 160; vheight 90;'));
  // The old child is stopped and a new one started with the new arguments.
  assert.ok(await waitFor(() => !alive(first.pid!), 5000), 'the old child is gone after the reload');
  // The supervisor starts the new child after the old one's exit, not at once: wait for it to be listed.
  let second: Awaited<ReturnType<typeof processes>>[number] | undefined;
  assert.ok(
    await waitFor(async () => {
      [second] = await processes(s);
      return Boolean(second?.pid && second.pid !== first.pid);
    }, 10_000, 100),
    'a new child',
  );
  assert.ok(second?.pid);
  assert.match(second.command, / -s 160x90 /);
  // The output stream is republished by the new child: probed at the new size.
  let size = '';
  assert.ok(
    await waitFor(async () => {
      size = await videoSize(s.rtmpUrl('live/cam_ld')).catch(() => '');
      return size === '160x90';
    }, 30_000, 200),
    `the output after the reload is ${size}`,
  );

  // The transcode block removed: the child is gone within 2 s of the signal.
  const pid = second.pid;
  const t0 = Date.now();
  await reload(s, (t) => t.replace(/ {2}transcode live \{[\s\S]*?\n {2}\}\n/, ''));
  assert.ok(await waitFor(() => !alive(pid), 2000 - (Date.now() - t0)), `transcode ${pid} still alive 2 s after the reload`);
  assert.ok(Date.now() - t0 <= 2000, `took ${Date.now() - t0} ms`);
  assert.ok(await waitFor(async () => (await processes(s)).length === 0, 2000), 'the API lists no child');
  const d = await decodeFrames(s.rtmpUrl('live/cam'), 2);
  assert.ok(d.frames >= 10, `the source still plays: ${d.frames} frames`);
});
