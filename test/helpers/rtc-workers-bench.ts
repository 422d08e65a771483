/**
 * WHEP players per machine with `--workers 2` vs 1, same run (a script, not a test):
 *   node dist/test/helpers/rtc-workers-bench.js [players ...]   (default 40 80)
 * An origin gets one RTMP stream (ffmpeg); an edge (`cluster { mode remote; }`) with
 * --workers 1, then 2, is played by N node-datachannel WHEP peers from this process.
 * Prints the CPU % of every edge process (primary and workers, from /proc) over a
 * 10 s window and how many players got the full video rate (>= 90% of the best
 * player's packets in that window).
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startServer, type RunningServer } from './server-process.js';
import { publish, decodeFrames, sleep } from './ffmpeg.js';
import { rtcEdgeConfig } from './rtc-browser.js';
import { ndcWhep, type NdcPlayer } from './rtc-ndc-client.js';

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

function children(pid: number): number[] {
  return spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
}

const ORIGIN = `
listen {{RTMP}};
srs_log_tank console;
vhost __defaultVhost__ { play { gop_cache on; } }
`;

async function run(origin: RunningServer, workers: number, n: number): Promise<string> {
  const edge = await startServer({ config: rtcEdgeConfig(origin.rtmpPort, '', 'max_connections 5000;'), args: workers > 1 ? ['--workers', String(workers)] : [] });
  const players: NdcPlayer[] = [];
  try {
    while (edge.logs.filter((l) => l.msg === 'WebRTC server listening').length < workers) await sleep(100);
    // One RTMP player per worker first, so that every worker's edge pull runs.
    const warm = Array.from({ length: 2 * workers }, () => decodeFrames(edge.rtmpUrl('live/b'), 40).catch(() => null));
    while (new Set(edge.logs.filter((l) => l.msg === 'edge pull started').map((l) => l['pid'])).size < workers) await sleep(100);
    for (let i = 0; i < n; i += 10) {
      const batch = await Promise.allSettled(Array.from({ length: Math.min(10, n - i) }, () => ndcWhep(edge.apiUrl('rtc/v1/whep/?app=live&stream=b'))));
      for (const r of batch) if (r.status === 'fulfilled') players.push(r.value);
    }
    await sleep(5000);
    const pids = workers > 1 ? [edge.proc.pid!, ...children(edge.proc.pid!)] : [edge.proc.pid!];
    const t0 = pids.map(cpuTicks);
    const v0 = players.map((p) => p.video.packets);
    await sleep(10_000);
    const cpu = pids.map((p, i) => Math.round((cpuTicks(p) - t0[i]!) / 10)); // USER_HZ ticks over 10 s: ticks / 10 = % of one core
    const got = players.map((p, i) => p.video.packets - v0[i]!);
    const best = Math.max(0, ...got);
    const full = got.filter((g) => g >= 0.9 * best).length;
    const byWorker = new Map<unknown, number>();
    for (const l of edge.logs) if (l.msg === 'WebRTC play answered') byWorker.set(l['pid'], (byWorker.get(l['pid']) ?? 0) + 1);
    await Promise.all(warm);
    const total = cpu.reduce((a, b) => a + b, 0);
    return `workers=${workers} players=${n} answered=${players.length} full-rate=${full} (best ${best / 10} pkt/s) cpu total ${total}% [${pids.map((p, i) => `${p}:${cpu[i]}%`).join(' ')}] sessions per worker ${[...byWorker.values()].join('/')}`;
  } finally {
    for (const p of players) p.close();
    await edge.stop();
  }
}

async function main(): Promise<void> {
  const counts = process.argv.slice(2).map(Number).filter((x) => x > 0);
  const origin = await startServer({ config: ORIGIN });
  const pub = publish(origin.rtmpUrl('live/b'), { seconds: 600, gop: 25 });
  try {
    await origin.waitForLog((l) => l.msg === 'publish started', 15_000);
    for (const n of counts.length ? counts : [40, 80]) {
      for (const w of [1, 2]) console.log(await run(origin, w, n));
    }
  } finally {
    await pub.stop();
    await origin.stop();
  }
  process.exit(0);
}

void main();
