#!/usr/bin/env node
// CPU of Sluice per SRT publisher and per SRT player at ~5 Mbit/s, next to
// srt-live-transmit relaying the same stream (one caller in, one out), in the
// same run. Each server is pinned to one core (taskset -c CORE); the
// publisher (ffmpeg -re | srt-live-transmit) and players run elsewhere.
//   node scripts/bench-srt.mjs [--seconds 15] [--players 4] [--core 1]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, players: { type: 'string', default: '4' }, core: { type: 'string', default: '1' } } });
const SECONDS = Number(values.seconds);
const PLAYERS = Number(values.players);
const CORE = values.core;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'src', 'main', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'bench-srt-'));
const TS = join(dir, 'in.ts');
const HZ = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const procs = [];

function start(cmd, args, opts = {}) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'], ...opts });
  procs.push(p);
  return p;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(parts[11]) + Number(parts[12]);
}
async function cpuPercent(pid, seconds) {
  const t0 = cpuTicks(pid);
  const w0 = performance.now();
  await sleep(seconds * 1000);
  return ((cpuTicks(pid) - t0) / HZ / ((performance.now() - w0) / 1000)) * 100;
}
/** ffmpeg -re | srt-live-transmit → url: the 5 Mbit/s stream, published by libsrt. */
function publishTo(url) {
  const ff = start('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', TS, '-c', 'copy', '-f', 'mpegts', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const slt = start('srt-live-transmit', ['-q', 'file://con', url], { stdio: ['pipe', 'ignore', 'ignore'] });
  ff.stdout.pipe(slt.stdin);
}
function playFrom(url) {
  start('srt-live-transmit', ['-q', url, 'file://con'], { stdio: ['ignore', 'ignore', 'ignore'] });
}

if (!existsSync(TS)) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine', '-t', '20', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '5M', '-maxrate', '5M', '-bufsize', '2M', '-g', '60', '-c:a', 'aac', '-f', 'mpegts', TS]);
}
try {
  const conf = join(dir, 'sluice.conf');
  writeFileSync(conf, 'listen 19935;\nsrs_log_tank console;\nsrs_log_level warn;\nsrt_server { enabled on; listen 19080; }\nvhost __defaultVhost__ { srt { enabled on; } }\n');
  const sluice = start('taskset', ['-c', CORE, process.execPath, CLI, '-c', conf], { cwd: dir });
  await sleep(1500);
  publishTo('srt://127.0.0.1:19080?streamid=#!::r=live/b,m=publish');
  await sleep(3000);
  const pub = await cpuPercent(sluice.pid, SECONDS);
  for (let i = 0; i < PLAYERS; i++) playFrom('srt://127.0.0.1:19080?streamid=#!::r=live/b,m=request');
  await sleep(3000);
  const withPlayers = await cpuPercent(sluice.pid, SECONDS);
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  await sleep(1000);
  // The peer: srt-live-transmit, listener in and listener out, one caller each.
  const relay = start('taskset', ['-c', CORE, 'srt-live-transmit', '-q', 'srt://:19081?mode=listener', 'srt://:19082?mode=listener']);
  await sleep(500);
  publishTo('srt://127.0.0.1:19081');
  playFrom('srt://127.0.0.1:19082');
  await sleep(3000);
  const peer = await cpuPercent(relay.pid, SECONDS);
  console.log(`stream ~5 Mbit/s (1280x720 H.264 + AAC), ${SECONDS} s windows, server on core ${CORE}`);
  console.log(`sluice  1 SRT publisher:                 ${pub.toFixed(1)} % of a core`);
  console.log(`sluice  1 publisher + ${PLAYERS} SRT players:     ${withPlayers.toFixed(1)} %  → ${((withPlayers - pub) / PLAYERS).toFixed(1)} % per player`);
  console.log(`srt-live-transmit relay (1 in, 1 out):   ${peer.toFixed(1)} %`);
} finally {
  for (const p of procs) p.kill('SIGKILL');
}
