#!/usr/bin/env node
/* global fetch, performance */
// One 720p → 360p transcode (SRS engine: libx264 veryfast 500 kbit/s, 25 fps) on Sluice (built in dist/).
// Prints: the time from the publisher's start to the first decoded frame of the transcoded stream
// (a player already waiting), the CPU of the transcode child and of the server (% of one core, over
// SECONDS), and, side by side, the CPU of the same FFmpeg argv run by hand (the peer: plain FFmpeg
// pulling the same stream), all in the same run.
// ABR=1: an ABR ladder instead (transcode `abr {}`, HLS on): engines ld (360p) and lld (180p), the CPU of
// both children, the server (now also segmenting three streams), and the two argvs by hand as the peer.
// Usage: node scripts/bench-transcode.mjs [SECONDS] [PORT]   (CPUS=0 pins the server and its children with taskset)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 20);
const port = Number(process.argv[3] ?? 19936);
const api = port + 1;
const http = port + 2;
const abr = process.env.ABR === '1';
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-transcode-'));
const pin = (argv) => (process.env.CPUS ? ['taskset', '-c', process.env.CPUS, ...argv] : argv);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];
function start(argv, opts = {}) {
  const [cmd, ...args] = argv;
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  c.stderr.resume();
  children.push(c);
  return c;
}
/** CPU seconds (user + system) of a pid so far. */
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
async function cpuPercent(pids, ms) {
  const a = pids.map(cpuSeconds);
  await sleep(ms);
  return pids.map((p, i) => ((cpuSeconds(p) - a[i]) / (ms / 1000)) * 100);
}

writeFileSync(
  join(dir, 's.conf'),
  `listen ${port};
srs_log_tank console;
srs_log_level warn;
pid ${dir}/s.pid;
ff_log_dir /dev/null;
http_api { enabled on; listen ${api}; }
http_server { enabled on; listen ${http}; dir ${dir}/html; }
vhost __defaultVhost__ {
  ${abr ? `hls { enabled on; hls_fragment 2; hls_path ${dir}/html; }` : ''}
  transcode live {
    enabled on;
    ffmpeg ffmpeg;
    ${abr ? 'abr { enabled on; source on; }' : ''}
    engine ld {
      enabled on; vcodec libx264; vbitrate 500; vfps 25; vwidth 640; vheight 360; vthreads 1; vprofile main; vpreset veryfast;
      acodec aac; abitrate 64; asample_rate 44100; achannels 2;
      output rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine];
    }
    ${abr ? `engine lld {
      enabled on; vcodec libx264; vbitrate 200; vfps 25; vwidth 320; vheight 180; vthreads 1; vprofile main; vpreset veryfast;
      acodec aac; abitrate 64; asample_rate 44100; achannels 2;
      output rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine];
    }` : ''}
  }
}
`,
);
try {
  const server = start(pin([process.execPath, join(root, 'dist/src/main/cli.js'), '-c', join(dir, 's.conf')]), { cwd: dir });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${api}/api/v1/versions`).then((r) => r.ok, () => false)) break;
    await sleep(100);
  }
  // A player waiting for the transcoded stream before anything is published.
  const player = start(['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-probesize', '32', '-analyzeduration', '0', '-i', `rtmp://127.0.0.1:${port}/live/bench_ld`, '-frames:v', '1', '-f', 'null', '-']);
  await sleep(500);
  const t0 = performance.now();
  start(['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(seconds + 30), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', '-b:v', '2500k', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/bench`]);
  const code = await new Promise((r) => player.once('exit', r));
  const firstFrameMs = performance.now() - t0;
  const want = abr ? 2 : 1;
  let procs = [];
  for (let i = 0; i < 100 && procs.length < want; i++) {
    procs = (await (await fetch(`http://127.0.0.1:${api}/api/v1/processes`)).json()).processes.filter((p) => p.kind === 'transcode' && p.pid);
    if (procs.length < want) await sleep(100);
  }
  // The peer: the same argvs by hand, reading the same stream, their output thrown away.
  const peers = procs.map((child) => {
    const argv = child.command.split(' ');
    return start(pin([...argv.slice(0, argv.indexOf('-f', argv.indexOf('-acodec'))), '-f', 'null', '-']));
  });
  await sleep(5000);
  const cpu = await cpuPercent([...procs.map((c) => c.pid), server.pid, ...peers.map((p) => p.pid)], seconds * 1000);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const childCpu = sum(cpu.slice(0, procs.length));
  const serverCpu = cpu[procs.length];
  const peerCpu = sum(cpu.slice(procs.length + 1));
  console.log(`publish → first transcoded frame: ${firstFrameMs.toFixed(0)} ms (player exit ${code})`);
  const what = abr ? 'ABR ladder, 2 children (720p25 → 360p25 500k and 180p25 200k, libx264 veryfast + aac, keyframes forced from the source)' : 'transcode child (720p25 → 360p25 libx264 veryfast 500k + aac)';
  console.log(`${what}: ${childCpu.toFixed(1)} % of one core over ${seconds} s`);
  console.log(`sluice server (relaying the 720p publish, the transcodes' play and publish${abr ? ', HLS of 3 streams' : ''}): ${serverCpu.toFixed(1)} %`);
  console.log(`peer, the same ffmpeg argv${abr ? 's' : ''} run by hand: ${peerCpu.toFixed(1)} %`);
  if (abr) {
    const r = await fetch(`http://127.0.0.1:${http}/live/bench_abr.m3u8`);
    console.log(`live/bench_abr.m3u8 (${r.status}):\n${await r.text()}`);
  }
} finally {
  // The server first, by SIGTERM: it stops and reaps its own transcode child.
  const server = children[0];
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
  }
  for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGKILL');
  await sleep(300);
  rmSync(dir, { recursive: true, force: true });
}
