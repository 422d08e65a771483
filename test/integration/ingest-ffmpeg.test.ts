/**
 * vhost.ingest with real FFmpeg: a file made by ffmpeg is ingested and plays
 * over RTMP and HLS (codec, size, frames decoded); the FFmpeg child killed
 * from outside comes back and the stream resumes; a missing input file is a
 * log line and backoff (restarts counted by the API) while another stream
 * plays; an RTSP camera (rtsp-streaming-server, to which ffmpeg publishes)
 * is ingested and played; a reload that removes an ingest stops it; a
 * server stop leaves no child.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { RtspServerConfig } from 'rtsp-streaming-server';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { decodeFrames, probe, publish, run, type Proc } from '../helpers/ffmpeg.js';
import { freePort, freeUdpPort, waitForPort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

interface ProcessInfo {
  kind: string;
  label: string;
  command: string;
  pid: number | null;
  state: string;
  restarts: number;
  log_file: string | null;
}

const media = mkdtempSync(join(tmpdir(), 'sluice-ingest-media-'));
const CLIP = join(media, 'clip.mp4');
let server: RunningServer | undefined;
const procs: Proc[] = [];

before(async () => {
  // 6 s of 640x360 H.264 + AAC, a keyframe every second.
  const p = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', CLIP]);
  assert.equal(await p.done, 0, p.stderr());
});

after(async () => {
  for (const p of procs) await p.stop();
  await server?.stop();
  rmSync(media, { recursive: true, force: true });
});

async function processes(s: RunningServer): Promise<ProcessInfo[]> {
  const r = await fetch(s.apiUrl('/api/v1/processes'));
  assert.equal(r.status, 200);
  return ((await r.json()) as { processes: ProcessInfo[] }).processes;
}

function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

const config = (ingests: string): string => `
listen {{RTMP}};
srs_log_tank console;
ff_log_dir ./fflogs;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  hls { enabled on; hls_fragment 1; hls_window 10; hls_path ./html; }
  ${ingests}
}
`;

const FILE_INGEST = `
  ingest clip {
    enabled on;
    input { type file; url ${CLIP}; }
    ffmpeg ./objs/ffmpeg/bin/ffmpeg;
    engine { enabled off; output rtmp://127.0.0.1:[port]/live?vhost=[vhost]/clip; }
  }`;
const MISSING_INGEST = `
  ingest missing {
    enabled on;
    input { type file; url ${join(media, 'no-such-file.mp4')}; }
    ffmpeg ffmpeg;
    engine { enabled off; output rtmp://127.0.0.1:[port]/live/missing; }
  }`;

const UNREACHABLE_CAMERA = `
  ingest gone {
    enabled on;
    input { type stream; url rtsp://127.0.0.1:9/cam; }
    ffmpeg ffmpeg;
    engine { enabled off; output rtmp://127.0.0.1:[port]/live/gone; }
  }`;

test('a file ingest plays over RTMP and HLS, comes back when its FFmpeg is killed; a missing file and an unreachable camera only back off', async () => {
  server = await startServer({ config: config(FILE_INGEST + MISSING_INGEST + UNREACHABLE_CAMERA) });
  const s = server;

  // RTMP: what the file holds, decoded.
  const rtmp = await probe(s.rtmpUrl('live/clip'), 3);
  const v = rtmp.streams.find((x) => x.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(v?.width, 640);
  assert.equal(v?.height, 360);
  assert.equal(rtmp.streams.find((x) => x.codec_type === 'audio')?.codec_name, 'aac');
  const decoded = await decodeFrames(s.rtmpUrl('live/clip'), 2);
  assert.ok(decoded.frames >= 25, `frames decoded over RTMP: ${decoded.frames}`);

  // HLS of the ingested stream.
  assert.ok(await waitFor(async () => (await fetch(s.httpUrl('/live/clip.m3u8'))).status === 200, 20_000), 'HLS playlist');
  const hls = await probe(s.httpUrl('/live/clip.m3u8'), 2);
  assert.equal(hls.streams.find((x) => x.codec_type === 'video')?.width, 640);
  assert.ok(hls.packets.length > 10, `HLS packets: ${hls.packets.length}`);

  // The configured SRS path does not exist here: PATH's ffmpeg, said once.
  assert.ok(s.logs.some((l) => l.msg === 'configured ffmpeg not found: using ffmpeg from PATH'));
  const list = await processes(s);
  const clip = list.find((p) => p.label === '__defaultVhost__/clip')!;
  assert.equal(clip.kind, 'ingest');
  assert.match(clip.command, / -re -i \S+clip\.mp4 -vcodec copy -acodec copy -f flv -y rtmp:\/\/127\.0\.0\.1:\d+\/live\?vhost=__defaultVhost__\/clip$/);
  assert.ok(clip.log_file?.endsWith('/fflogs/ffmpeg-ingest-__defaultVhost__-live-clip.log'), String(clip.log_file));

  // Killed from outside: started again, and the stream plays again.
  const before = await processes(s);
  const running = before.find((p) => p.label === '__defaultVhost__/clip' && p.pid !== null)!;
  process.kill(running.pid!, 'SIGKILL');
  assert.ok(
    await waitFor(async () => (await processes(s)).some((p) => p.label === '__defaultVhost__/clip' && p.restarts > running.restarts && p.pid !== null && p.pid !== running.pid), 20_000),
    'ingest restarted',
  );
  assert.ok(!alive(running.pid!), 'the killed child was reaped');
  const again = await decodeFrames(s.rtmpUrl('live/clip'), 2);
  assert.ok(again.frames >= 25, `frames after the restart: ${again.frames}`);

  // The missing file: an error line from the supervisor, restarts counted, backoff growing.
  const missing = await s.waitForLog((l) => l.msg === 'child process exited: restarting after backoff' && String(l.ingest).includes('missing'), 20_000);
  assert.ok(Number(missing.restartInMs) >= 1000);
  assert.ok(await waitFor(async () => ((await processes(s)).find((p) => p.label === '__defaultVhost__/missing')?.restarts ?? 0) >= 2, 20_000), 'missing file retried');
  const waits = s.logs.filter((l) => l.msg === 'child process exited: restarting after backoff' && String(l.ingest).includes('missing')).map((l) => Number(l.restartInMs));
  assert.ok(waits.length >= 2 && waits[1]! > waits[0]!, `backoff grows: ${waits.join(',')}`);
  const ffLog = readFileSync(join(s.dir, 'fflogs', 'ffmpeg-ingest-__defaultVhost__-live-missing.log'), 'utf8');
  assert.match(ffLog, /No such file or directory/);

  // An unreachable camera: pulled over TCP (Sluice's default for rtsp://), retried with backoff.
  assert.ok(await waitFor(async () => ((await processes(s)).find((p) => p.label === '__defaultVhost__/gone')?.restarts ?? 0) >= 1, 20_000), 'unreachable camera retried');
  assert.match((await processes(s)).find((p) => p.label === '__defaultVhost__/gone')!.command, / -re -rtsp_transport tcp -i rtsp:\/\/127\.0\.0\.1:9\/cam -vcodec copy /);
  assert.match(readFileSync(join(s.dir, 'fflogs', 'ffmpeg-ingest-__defaultVhost__-live-gone.log'), 'utf8'), /Connection refused/);

  // Everything else goes on: a plain publisher plays meanwhile.
  const pub = publish(s.rtmpUrl('live/other'), { seconds: 20 });
  procs.push(pub);
  const other = await decodeFrames(s.rtmpUrl('live/other'), 2);
  assert.ok(other.frames >= 25, `other stream: ${other.frames}`);
  await pub.stop();
});

test('a reload that removes an ingest stops its FFmpeg; a server stop leaves no child', async () => {
  const s = server!;
  const pids = (await processes(s)).map((p) => p.pid).filter((p): p is number => p !== null);
  // The same ports; only the ingests change.
  const text = config(FILE_INGEST)
    .replace('{{RTMP}}', String(s.rtmpPort))
    .replace('{{API}}', String(s.apiPort))
    .replace('{{HTTP}}', String(s.httpPort));
  writeFileSync(s.configFile, text);
  s.signal('SIGHUP');
  assert.ok(await waitFor(async () => !(await processes(s)).some((p) => p.label === '__defaultVhost__/missing'), 10_000), 'removed ingest stopped');
  const left = await processes(s);
  assert.deepEqual(left.map((p) => p.label), ['__defaultVhost__/clip']);
  await s.stop();
  server = undefined;
  for (const pid of [...pids, ...left.map((p) => p.pid ?? 0)]) if (pid) assert.ok(!alive(pid), `child ${pid} outlived the server`);
});

test('an RTSP camera (a real RTSP server fed by ffmpeg) is ingested and plays over RTMP', async () => {
  const publishPort = await freePort();
  const clientPort = await freePort();
  const rtpBase = await freeUdpPort();
  const rtspConfig: RtspServerConfig = { serverPort: publishPort, clientPort, rtpPortStart: rtpBase - (rtpBase % 2), rtpPortCount: 40 };
  // In a process of its own: the library has no stop, and the test process must be able to end.
  const script = `const { RtspServer } = require(${JSON.stringify(createRequire(import.meta.url).resolve('rtsp-streaming-server'))}); new RtspServer(${JSON.stringify(rtspConfig)}).start();`;
  const rtsp = run(process.execPath, ['-e', script], 120_000);
  await waitForPort(publishPort);
  await waitForPort(clientPort);
  try {
    const cam = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p', '-f', 'rtsp', `rtsp://127.0.0.1:${publishPort}/cam`], 90_000);
    procs.push(cam);
    // This RTSP server serves UDP only: perfile overrides Sluice's TCP default, as an SRS user would write it.
    server = await startServer({
      config: config(`
  ingest camera {
    enabled on;
    input { type stream; url rtsp://127.0.0.1:${clientPort}/cam; }
    ffmpeg ffmpeg;
    engine {
      enabled on;
      perfile { rtsp_transport udp; }
      vcodec copy;
      acodec an;
      output rtmp://127.0.0.1:[port]/live?vhost=[vhost]/camera;
    }
  }`),
    });
    const s = server;
    assert.ok(await waitFor(async () => (await fetch(s.apiUrl('/api/v1/streams'))).ok && JSON.stringify(await (await fetch(s.apiUrl('/api/v1/streams'))).json()).includes('"camera"'), 30_000), 'camera stream published');
    const p = await probe(s.rtmpUrl('live/camera'), 3);
    const v = p.streams.find((x) => x.codec_type === 'video');
    assert.equal(v?.codec_name, 'h264');
    assert.equal(v?.width, 640);
    assert.equal(v?.height, 360);
    const d = await decodeFrames(s.rtmpUrl('live/camera'), 2);
    assert.ok(d.frames >= 20, `camera frames: ${d.frames}`);
    const cmd = (await processes(s))[0]!.command;
    assert.match(cmd, / -re -rtsp_transport udp -i rtsp:\/\/127\.0\.0\.1:\d+\/cam -vcodec copy -an -f flv /);
    await s.stop();
    server = undefined;
    await cam.stop();
  } finally {
    await rtsp.stop();
  }
});

test('a graceful quit (SIGQUIT) stops the ingests when the listeners close: no 30 s wait for their publish, no child left', async () => {
  server = await startServer({ config: `grace_start_wait 100;\ngrace_final_wait 100;\n${config(FILE_INGEST)}` });
  const s = server;
  assert.ok(await waitFor(async () => (await processes(s)).some((p) => p.pid !== null && p.state === 'running'), 20_000));
  assert.ok(await waitFor(() => s.logs.some((l) => l.msg === 'publish started'), 20_000), 'the ingest publishes');
  const pid = (await processes(s))[0]!.pid!;
  const t0 = Date.now();
  s.signal('SIGQUIT');
  await s.exited;
  server = undefined;
  const took = Date.now() - t0;
  assert.ok(took < 10_000, `graceful quit took ${took} ms`);
  assert.ok(!s.logs.some((l) => l.msg === 'graceful stop: wait is over, cutting the remaining publishers'), 'the ingest publish ended by itself');
  assert.ok(!alive(pid), `ingest ${pid} outlived the server`);
});
