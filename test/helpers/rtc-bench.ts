/**
 * WebRTC benchmark (a script, not a test):
 *   node dist/test/helpers/rtc-bench.js [maxPlayers] [--fanout-only] [--follow-client-address off] [--pin] [--cpu-prof DIR] [--twcc-ab]
 * --twcc-ab: at maxPlayers only, players without transport-cc, then with it
 * (the server numbers every packet and runs an estimator per player), then
 * without again, in one run: the per-packet cost of TWCC for players.
 * --cpu-prof DIR writes the server's V8 CPU profile there when it stops.
 * --pin puts the server on CPU 0 (`taskset`); run the script itself on CPU 1
 * (`taskset -c 1 node ...`) so that the load does not share the server's core.
 * 1. AAC→Opus and Opus→AAC transcoding latency and CPU (one FFmpeg per stream).
 * 2. WHEP fan-out: one ~1 Mbit/s RTMP stream (bridged to RTC) played by N
 *    node-datachannel peers on loopback; the server process's CPU is read
 *    from /proc at each N. Prints figures for docs/BENCHMARKS.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { startServer } from './server-process.js';
import { sleep } from './ffmpeg.js';
import { rtcConfig, RTC_PORT } from './rtc-browser.js';
import { ndcWhep, type NdcPlayer } from './rtc-ndc-client.js';
import { AacToOpusTranscoder } from '../../src/ffmpeg/aac-to-opus.js';
import { OpusToAacTranscoder } from '../../src/ffmpeg/opus-to-aac.js';
import { buildAudioSpecificConfig } from '../../src/codec/aac.js';
import { ProcessRegistry } from '../../src/ffmpeg/child-supervisor.js';
import { silentLogger } from '../../src/log/logger.js';
import { TWCC_URI } from '../../src/protocol/rtp/twcc.js';

const pipeHost = { processes: new ProcessRegistry(), logFile: null, log: silentLogger() };

const TICK = 100; // USER_HZ

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** CPU ticks of each of a process's threads (the main thread's id is the pid). */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(t, Number(f[11]) + Number(f[12]));
    } catch {
      /* gone */
    }
  }
  return out;
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function transcodeLatency(): Promise<void> {
  // AAC frames from ffmpeg (ADTS, 48 kHz stereo), pushed at real time.
  const aac: Buffer[] = await new Promise((resolve) => {
    const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-ac', '2', '-t', '6', '-c:a', 'aac', '-b:a', '64k', '-f', 'adts', 'pipe:1']);
    const chunks: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => chunks.push(d));
    p.on('exit', () => {
      const all = Buffer.concat(chunks);
      const frames: Buffer[] = [];
      for (let o = 0; o + 7 <= all.length; ) {
        const len = ((all[o + 3]! & 3) << 11) | (all[o + 4]! << 3) | (all[o + 5]! >>> 5);
        frames.push(all.subarray(o + 7, o + len));
        o += len;
      }
      resolve(frames);
    });
  });
  const pushedAt: number[] = [];
  const lat: number[] = [];
  const opusOut: { p: Buffer; pts: number }[] = [];
  const t0 = performance.now();
  const enc = new AacToOpusTranscoder({
    asc: buildAudioSpecificConfig(2, 3, 2),
    bitrate: 48000,
    onOpus: (p, pts) => {
      opusOut.push({ p, pts });
      const idx = Math.floor(pts / (1024 / 48));
      if (pushedAt[idx] !== undefined) lat.push(performance.now() - pushedAt[idx]!);
    },
    onError: () => undefined,
    host: pipeHost,
    label: 'bench',
  });
  for (let i = 0; i < aac.length; i++) {
    const due = t0 + (i * 1024) / 48;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pushedAt[i] = performance.now();
    enc.push(aac[i]!, (i * 1024) / 48);
  }
  await sleep(300);
  lat.sort((a, b) => a - b);
  console.log(`AAC→Opus: ${aac.length} frames in, ${opusOut.length} packets out; latency median ${lat[lat.length >> 1]?.toFixed(1)} ms, p95 ${lat[Math.floor(lat.length * 0.95)]?.toFixed(1)} ms`);
  enc.close();

  const lat2: number[] = [];
  const pushed2: number[] = [];
  const t1 = performance.now();
  let out2 = 0;
  const dec = new OpusToAacTranscoder({
    bitrate: 48000,
    onAac: (_f, pts) => {
      out2++;
      const idx = Math.floor(pts / 20);
      if (pushed2[idx] !== undefined) lat2.push(performance.now() - pushed2[idx]!);
    },
    onError: () => undefined,
    host: pipeHost,
    label: 'bench',
  });
  for (let i = 0; i < opusOut.length; i++) {
    const due = t1 + i * 20;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pushed2[i] = performance.now();
    dec.push(opusOut[i]!.p, i * 20);
  }
  await sleep(300);
  lat2.sort((a, b) => a - b);
  console.log(`Opus→AAC: ${opusOut.length} packets in, ${out2} frames out; latency median ${lat2[lat2.length >> 1]?.toFixed(1)} ms, p95 ${lat2[Math.floor(lat2.length * 0.95)]?.toFixed(1)} ms`);
  dec.close();
}

async function fanout(maxPlayers: number, follow: boolean, pin: boolean, profDir: string | null): Promise<void> {
  const server = await startServer({
    config: rtcConfig(RTC_PORT, 'rtc { enabled on; rtmp_to_rtc on; }', `follow_client_address ${follow ? 'on' : 'off'};`),
    ...(profDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {}),
  });
  if (pin) spawnSync('taskset', ['-a', '-p', '-c', '0', String(server.proc.pid)], { stdio: 'ignore' });
  console.log(`WHEP fan-out, follow_client_address ${follow ? 'on' : 'off'}${pin ? ', server pinned to CPU 0' : ''}`);
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '600',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', '950k', '-maxrate', '1000k', '-bufsize', '1000k', '-g', '50', '-bf', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', server.rtmpUrl('live/bench')]);
  const players: NdcPlayer[] = [];
  const pid = server.proc.pid!;
  try {
    await server.waitForLog((l) => l.msg === 'publish started', 10_000);
    const measure = async (secs: number): Promise<{ server: number; ffmpegAudio: number; rxMbps: number; mainThread: number; otherThreads: string }> => {
      const t0 = threadTicks(pid);
      const kids = children(pid);
      const k0 = kids.map((k) => { try { return cpuTicks(k); } catch { return 0; } });
      const c0 = cpuTicks(pid);
      const b0 = players.reduce((s, p) => s + p.video.bytes + p.audio.bytes, 0);
      await sleep(secs * 1000);
      const c1 = cpuTicks(pid);
      const k1 = kids.map((k) => { try { return cpuTicks(k); } catch { return 0; } });
      const b1 = players.reduce((s, p) => s + p.video.bytes + p.audio.bytes, 0);
      const t1 = threadTicks(pid);
      const pct = (id: string): number => (((t1.get(id) ?? 0) - (t0.get(id) ?? 0)) / TICK / secs) * 100;
      const others = [...t1.keys()].filter((id) => id !== String(pid)).map(pct).filter((x) => x >= 0.5).sort((a, b) => b - a);
      return {
        mainThread: pct(String(pid)),
        otherThreads: others.map((x) => x.toFixed(1)).join('+') || '0', server: ((c1 - c0) / TICK / secs) * 100, ffmpegAudio: (k1.reduce((a, b) => a + b, 0) - k0.reduce((a, b) => a + b, 0)) / TICK / secs * 100, rxMbps: ((b1 - b0) * 8) / secs / 1e6 };
    };
    const base = await measure(5);
    console.log(`players 0: server CPU ${base.server.toFixed(1)}% (RTMP ingest only)`);
    if (twccAb) {
      // The offer as a browser's: the transport-wide-cc extension and feedback on both sections.
      const withTwcc = (sdp: string): string =>
        sdp.replace(/(a=rtpmap:(\d+) [^\r\n]+\r\n)/g, `$1a=rtcp-fb:$2 transport-cc\r\na=extmap:3 ${TWCC_URI}\r\n`);
      let closedSoFar = 0;
      for (const [label, twcc] of [['without TWCC', false], ['with TWCC', true], ['without TWCC', false], ['with TWCC', true]] as const) {
        while (players.length < maxPlayers) players.push(await ndcWhep(server.apiUrl('rtc/v1/whep/?app=live&stream=bench'), {}, twcc ? { offer: withTwcc } : {}));
        await sleep(3000);
        const m = await measure(10);
        const ok = players.filter((p) => p.video.packets > 0).length;
        console.log(`players ${maxPlayers} ${label} (${ok} receiving): server CPU ${m.server.toFixed(1)}%, main thread ${m.mainThread.toFixed(1)}%, delivered ${m.rxMbps.toFixed(1)} Mbit/s; ${((m.server - base.server) / maxPlayers).toFixed(3)}% of a core per player above ingest`);
        for (const p of players.splice(0)) p.close();
        // The next phase starts once the server has let every one of them go (it would forward to both sets).
        closedSoFar += maxPlayers;
        await server.waitForLog(() => server.logs.filter((l) => l.msg === 'rtc-play session closed').length >= closedSoFar, 60_000);
      }
      return;
    }
    for (const n of [1, 10, 25, 50, 100, 150, 200].filter((x) => x <= maxPlayers)) {
      while (players.length < n) players.push(await ndcWhep(server.apiUrl('rtc/v1/whep/?app=live&stream=bench')));
      await sleep(3000);
      const m = await measure(8);
      const ok = players.filter((p) => p.video.packets > 0).length;
      const perPlayer = n > 0 ? (m.server - base.server) / n : 0;
      console.log(`players ${n} (${ok} receiving): server CPU ${m.server.toFixed(1)}%, AAC→Opus ffmpeg ${m.ffmpegAudio.toFixed(1)}%, main thread ${m.mainThread.toFixed(1)}%, other threads ${m.otherThreads}%, delivered ${m.rxMbps.toFixed(1)} Mbit/s (${(m.rxMbps / Math.max(1, ok)).toFixed(2)} per player); ${perPlayer.toFixed(3)}% of a core per player above ingest → ${perPlayer > 0 ? Math.round(100 / perPlayer) : '-'} players per core`);
    }
  } finally {
    for (const p of players) p.close();
    ff.kill('SIGKILL');
    await server.stop();
  }
}

const args = process.argv.slice(2);
const maxPlayers = Number(args.find((a) => /^\d+$/.test(a)) ?? 100);
const followAt = args.indexOf('--follow-client-address');
const follow = followAt < 0 || args[followAt + 1] !== 'off';
const twccAb = args.includes('--twcc-ab');
if (!args.includes('--fanout-only')) await transcodeLatency();
const profAt = args.indexOf('--cpu-prof');
await fanout(maxPlayers, follow, args.includes('--pin'), profAt >= 0 ? args[profAt + 1]! : null);
process.exit(0);
