/**
 * vhost.exec with real ffmpeg: the command copies the published stream (from
 * [url]) into a file that ffprobe reads back as H.264 + AAC; the API lists the
 * child; unpublish stops it (no process, no zombie); a killed child is
 * started again; hostile names run nothing and cannot inject words; a
 * reload restarts changed commands; a server stop leaves no child behind.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, run, type Proc } from '../helpers/ffmpeg.js';
import { RtmpSocketClient } from '../helpers/rtmp-socket-client.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
ff_log_dir ./fflogs;
http_api { enabled on; listen {{API}}; }
vhost __defaultVhost__ {
  exec {
    enabled on;
    publish ffmpeg -hide_banner -nostdin -f flv -i [url] -c copy -y ./[app]-[stream].flv;
  }
}
`;

interface ProcessInfo {
  label: string;
  command: string;
  pid: number | null;
  state: string;
  restarts: number;
  uptime: number;
  log_file: string | null;
}

let server: RunningServer | undefined;
const publishers: Proc[] = [];
after(async () => {
  for (const p of publishers) await p.stop();
  await server?.stop();
});

async function processes(s: RunningServer): Promise<ProcessInfo[]> {
  const r = await fetch(s.apiUrl('/api/v1/processes'));
  assert.equal(r.status, 200);
  return ((await r.json()) as { processes: ProcessInfo[] }).processes;
}

/** Gone, or a zombie that is not the server's (a grandchild handed to init). */
function gone(pid: number, serverPid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  try {
    const fields = readFileSync(stat, 'utf8').replace(/^.*\) /, '').split(' ');
    return fields[0] === 'Z' && Number(fields[1]) !== serverPid;
  } catch {
    return true;
  }
}

async function probeFile(path: string): Promise<{ codecs: string[]; duration: number; width: number }> {
  const p = run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', path], 30_000);
  let out = '';
  p.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  assert.equal(await p.done, 0, p.stderr());
  const j = JSON.parse(out) as { streams: { codec_name: string; width?: number }[]; format: { duration: string } };
  return { codecs: j.streams.map((s) => s.codec_name).sort(), duration: Number(j.format.duration), width: j.streams.find((s) => s.width)?.width ?? 0 };
}

test('exec copies the published stream to a file, is restarted when killed, and stops at unpublish', async () => {
  server = await startServer({ config: CONFIG });
  const s = server;
  const serverPid = s.proc.pid!;
  const pub = publish(s.rtmpUrl('live/cam'), { seconds: 60, size: '320x240' });
  publishers.push(pub);

  assert.ok(await waitFor(async () => (await processes(s)).some((p) => p.state === 'running'), 20_000), 'exec child running');
  const [first] = await processes(s);
  assert.equal(first!.label, '/live/cam');
  assert.match(first!.command, /^ffmpeg .* -i rtmp:\/\/127\.0\.0\.1:\d+\/live\/cam -c copy -y \.\/live-cam\.flv$/);
  assert.equal(first!.restarts, 0);
  assert.ok(first!.log_file?.endsWith('/fflogs/ffmpeg-exec-__defaultVhost__-live-cam.log'), String(first!.log_file));
  const out = join(s.dir, 'live-cam.flv');
  assert.ok(await waitFor(() => existsSync(out) && statSync(out).size > 10_000, 20_000), 'recording grows');

  // Killed from outside: the supervisor starts it again after its backoff.
  process.kill(first!.pid!, 'SIGKILL');
  assert.ok(await waitFor(async () => (await processes(s)).some((p) => p.restarts === 1 && p.state === 'running' && p.pid !== first!.pid), 20_000), 'restarted');
  const [second] = await processes(s);
  assert.ok(gone(first!.pid!, serverPid), 'the killed child was reaped');
  // The new run overwrites the file (-y): wait until it has opened its output and written some media.
  const logPath = join(s.dir, 'fflogs', 'ffmpeg-exec-__defaultVhost__-live-cam.log');
  const outputs = (): number => (readFileSync(logPath, 'utf8').match(/^Output #0/gm) ?? []).length;
  assert.ok(await waitFor(() => outputs() >= 2, 20_000), 'second run opened its output');
  assert.ok(await waitFor(() => statSync(out).size > 10_000, 20_000), 'second run records');

  // The publisher ends: the child gets SIGTERM and is gone (not a zombie) within a few seconds
  // (ffmpeg acts on it when its input ends, after the server's 3 s republish wait).
  await pub.stop();
  assert.ok(await waitFor(() => gone(second!.pid!, serverPid), 15_000), `exec child ${second!.pid} still there after unpublish`);
  assert.ok(await waitFor(async () => (await processes(s)).length === 0, 5000));

  const probe = await probeFile(out);
  assert.deepEqual(probe.codecs, ['aac', 'h264']);
  assert.equal(probe.width, 320);
  assert.ok(probe.duration > 0.5, `duration ${probe.duration}`);
  assert.ok(!s.logs.some((l) => l.msg === 'child ignored SIGTERM: SIGKILL'), 'ffmpeg ended on SIGTERM, with its trailer');
  const log = readFileSync(logPath, 'utf8');
  assert.match(log, /exec \/live\/cam: ffmpeg/);
  assert.match(log, /Input #0, flv/);
});

test('hostile stream names run nothing; shell characters in a name stay one plain word', async () => {
  await server?.stop();
  server = await startServer({ config: CONFIG });
  const s = server;
  for (const name of ['../x', '..', 'a/../../x', 'a\0b']) {
    const c = await RtmpSocketClient.connect(s.rtmpPort, 'live');
    assert.equal(await c.publish(name), 'NetStream.Publish.BadName', name);
    await c.close();
    assert.deepEqual(await processes(s), [], name);
  }
  const c = await RtmpSocketClient.connect(s.rtmpPort, 'live');
  assert.equal(await c.publish('x;touch${IFS}pwned|$(id)'), 'NetStream.Publish.Start');
  assert.ok(await waitFor(async () => (await processes(s)).some((p) => p.pid !== null), 20_000));
  const pid = (await processes(s))[0]!.pid!;
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.ok(argv.includes('./live-x;touch${IFS}pwned|$(id).flv'), argv.join('|'));
  await c.close();
  assert.ok(await waitFor(async () => (await processes(s)).length === 0, 15_000), 'stopped at unpublish');
  assert.ok(!existsSync(join(s.dir, 'pwned')));
});

test('a reload that changes exec restarts the commands of a live stream; a server stop leaves no child', async () => {
  const s = server!;
  const serverPid = s.proc.pid!;
  publishers.push(publish(s.rtmpUrl('live/other'), { seconds: 60 }));
  assert.ok(await waitFor(async () => (await processes(s)).some((p) => p.state === 'running'), 20_000), 'exec child running');
  const old = (await processes(s))[0]!.pid!;

  // A command that stays up: `sleep 30 other` (what this test once ran) is an invalid interval,
  // exits 1 at once, and was seen "running" only when a poll fell in the millisecond between its
  // spawn and its exit, so the test failed whenever the machine was busy. [stream] is sh's $0 here.
  writeFileSync(s.configFile, readFileSync(s.configFile, 'utf8').replace(/publish ffmpeg[^;]*;/, 'publish sh -c "sleep 30" [stream];'));
  s.signal('SIGHUP');
  assert.ok(await waitFor(async () => (await processes(s)).some((p) => p.command === 'sh -c sleep 30 other' && p.state === 'running'), 20_000), `new command: ${JSON.stringify(await processes(s))}`);
  // Up, not restarting: the new command really runs.
  assert.ok(await waitFor(async () => (await processes(s)).some((p) => p.command === 'sh -c sleep 30 other' && p.uptime >= 1 && p.restarts === 0), 20_000), `new command stays up: ${JSON.stringify(await processes(s))}`);
  assert.ok(await waitFor(() => gone(old, serverPid), 10_000), 'old command stopped');
  const procs = await processes(s);
  assert.equal(procs.length, 1);

  await s.stop();
  server = undefined;
  assert.ok(gone(procs[0]!.pid!, serverPid), `exec child ${procs[0]!.pid} outlived the server`);
});
