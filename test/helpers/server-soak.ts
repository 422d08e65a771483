/**
 * Whole-server soak (a script, not a test):
 *   node dist/test/helpers/server-soak.js [minutes=60] [players=200] [publishers=50]
 * One ffmpeg stream (320x180 H.264 + AAC, HLS and WebRTC on) watched by
 * `players` continuous players (half RTMP, half HTTP-FLV, a tenth of them
 * leaving and coming back each minute); `publishers` short RTMP publishers
 * churning (each lives 5–20 s on a new stream name, then another takes its
 * place); ten HLS players polling the playlist and fetching its newest segment;
 * WHEP players joining and leaving in waves of ten; the API polled every
 * second. The server's RSS is printed every minute, and a summary at the end
 * (after a minute of idle): fails loudly if the server exits, if players
 * starve, or if clients are left behind.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { RtmpClient } from '../../src/clients/rtmp-client.js';
import { startServer } from './server-process.js';
import { sleep } from './ffmpeg.js';
import { RTC_PORT } from './rtc-browser.js';
import { ndcWhep, type NdcPlayer } from './rtc-ndc-client.js';
import { AAC_CONFIG, AAC_FRAME, AVC_CONFIG, avcFrame } from './synthetic-media.js';

const [minutes = 60, playerCount = 200, publisherCount = 50] = process.argv.slice(2).map(Number);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const server = await startServer({
  config: `
listen {{RTMP}};
max_connections 2000;
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
rtc_server { enabled on; listen ${RTC_PORT}; candidate 127.0.0.1; }
vhost __defaultVhost__ {
  rtc { enabled on; rtmp_to_rtc on; rtc_to_rtmp off; }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  hls { enabled on; hls_fragment 2; hls_window 10; hls_path ./html; hls_dispose 10; }
  play { gop_cache on; }
}
`,
});
const pid = server.proc.pid!;
let stopping = false;
void server.exited.then((code) => {
  if (stopping) return;
  console.error(`SERVER EXITED with ${String(code)}; last log lines:`);
  for (const l of server.logs.slice(-30)) console.error(JSON.stringify(l));
  process.exit(1);
});
const api = server.apiUrl('').replace(/\/$/, '');
const end = Date.now() + minutes * 60_000;
const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(minutes * 60 + 120),
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', '300k', '-g', '50', '-bf', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '48k', '-f', 'flv', server.rtmpUrl('live/soak')]);
const counts = { rtmpBytes: 0, flvBytes: 0, hlsSegments: 0, hlsErrors: 0, whepReceiving: 0, whepPlayers: 0, publishes: 0, publishErrors: 0, apiPolls: 0, apiErrors: 0, playerErrors: 0 };

/** A player that stays until `until`, reading everything (RTMP through the socket client, HTTP-FLV through http). */
async function rtmpPlayer(until: number): Promise<void> {
  const c = await RtmpClient.connect({
    host: '127.0.0.1',
    port: server.rtmpPort,
    app: 'live',
    onEvent: (e) => {
      if (e.type === 'media') counts.rtmpBytes += e.payload.length;
    },
  });
  await c.play('soak');
  while (Date.now() < until && !stopping && !c.closed) await sleep(500);
  await c.close();
}

function flvPlayer(until: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(server.httpUrl('live/soak.flv'), (res) => {
      res.on('data', (d: Buffer) => (counts.flvBytes += d.length));
      res.on('error', () => resolve());
      res.on('end', () => resolve());
    });
    req.on('error', () => {
      counts.playerErrors++;
      resolve();
    });
    req.end();
    setTimeout(() => {
      req.destroy();
      resolve();
    }, Math.max(0, until - Date.now())).unref();
  });
}

/** Each seat keeps a player until the soak ends; a tenth of them leave and come back every minute. */
async function playerSeat(i: number): Promise<void> {
  await sleep((i % 50) * 100);
  while (Date.now() < end && !stopping) {
    const stay = Math.random() < 0.1 ? 30_000 + Math.random() * 30_000 : 60_000;
    const until = Math.min(end, Date.now() + stay);
    try {
      await (i % 2 ? flvPlayer(until) : rtmpPlayer(until));
    } catch {
      counts.playerErrors++;
      await sleep(1000);
    }
  }
}

/** A churning publisher seat: publish 5–20 s of ~200 kbit/s on a fresh name, leave, again. */
async function publisherSeat(i: number): Promise<void> {
  let n = 0;
  await sleep(i * 200);
  while (Date.now() < end && !stopping) {
    try {
      const c = await RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app: 'churn' });
      await c.publish(`p${i}-${n++}`);
      counts.publishes++;
      c.sendMedia(9, 0, AVC_CONFIG);
      c.sendMedia(8, 0, AAC_CONFIG);
      const frames = Math.round((5 + Math.random() * 15) * 25);
      for (let t = 0; t < frames && !stopping; t++) {
        c.sendMedia(9, t * 40, avcFrame(t % 50 === 0, t % 50 === 0 ? 8000 : 800));
        c.sendMedia(8, t * 40, AAC_FRAME);
        await sleep(40);
      }
      await c.close();
    } catch {
      counts.publishErrors++;
      await sleep(1000);
    }
  }
}

/** An HLS player as SRS sees one: it follows the hls_ctx playlist it is given, then polls it and fetches the newest segment. */
async function hlsPlayer(): Promise<void> {
  let playlist = server.httpUrl('live/soak.m3u8');
  while (Date.now() < end && !stopping) {
    try {
      const pl = await fetch(playlist);
      const text = await pl.text();
      if (!pl.ok) counts.hlsErrors++;
      const variant = text.split('\n').find((l) => /\.m3u8\?/.test(l));
      if (variant) {
        playlist = new URL(variant, playlist).href;
        continue;
      }
      const last = text.split('\n').filter((l) => /\.ts(\?|$)/.test(l)).at(-1);
      if (last) {
        const r = await fetch(new URL(last, playlist));
        await r.arrayBuffer();
        if (r.ok) counts.hlsSegments++;
        else counts.hlsErrors++;
      }
    } catch {
      counts.hlsErrors++;
    }
    await sleep(2000);
  }
}

async function apiPoller(): Promise<void> {
  const paths = ['/api/v1/summaries', '/api/v1/streams/?count=100', '/api/v1/clients/?count=100'];
  let k = 0;
  while (Date.now() < end && !stopping) {
    try {
      const r = await fetch(`${api}${paths[k++ % paths.length]}`);
      await r.json();
      counts.apiPolls++;
    } catch {
      counts.apiErrors++;
    }
    await sleep(1000);
  }
}

async function whepWaves(): Promise<void> {
  while (Date.now() < end && !stopping) {
    const got = await Promise.all(Array.from({ length: 10 }, () => ndcWhep(`${api}/rtc/v1/whep/?app=live&stream=soak`).catch(() => null)));
    const players = got.filter((p): p is NdcPlayer => p !== null);
    await sleep(8000 + Math.random() * 8000);
    counts.whepPlayers += players.length;
    counts.whepReceiving += players.filter((p) => p.video.packets > 0).length;
    await Promise.all(players.map(async (p, i) => {
      // Half say goodbye, half vanish (the server must find out by itself).
      if (i % 2 && p.location) await fetch(new URL(p.location, api), { method: 'DELETE' }).catch(() => undefined);
      p.close();
    }));
    await sleep(5000);
  }
}

const samples: number[] = [];
try {
  await server.waitForLog((l) => l.msg === 'publish started', 20_000).catch(() => undefined);
  const work = [
    ...Array.from({ length: playerCount }, (_, i) => playerSeat(i)),
    ...Array.from({ length: publisherCount }, (_, i) => publisherSeat(i)),
    ...Array.from({ length: 10 }, () => hlsPlayer()),
    apiPoller(),
    whepWaves(),
  ];
  const started = Date.now();
  const sampler = setInterval(() => {
    const rss = rssMb(pid);
    samples.push(rss);
    const c = counts;
    console.log(`[${Math.round((Date.now() - started) / 60_000)} min] rss ${rss.toFixed(1)} MB; rtmp ${(c.rtmpBytes / 1e6).toFixed(0)} MB, flv ${(c.flvBytes / 1e6).toFixed(0)} MB, hls segments ${c.hlsSegments} (${c.hlsErrors} errors), whep ${c.whepReceiving}/${c.whepPlayers} receiving, publishes ${c.publishes} (${c.publishErrors} errors), api ${c.apiPolls} (${c.apiErrors} errors), player errors ${c.playerErrors}`);
  }, 60_000);
  await Promise.all(work);
  clearInterval(sampler);
  // Idle: vanished WHEP players and idle sources are cleaned up by the server.
  let left = -1;
  for (let i = 0; i < 60 && left !== 0; i++) {
    await sleep(1000);
    const c = (await (await fetch(`${api}/api/v1/clients/?count=1000`)).json()) as { clients?: { type?: string; url?: string }[] };
    left = (c.clients ?? []).filter((x) => !/\/live\/soak$/.test(String(x.url))).length;
  }
  await sleep(30_000);
  const after = rssMb(pid);
  const steady = samples.slice(Math.min(5, samples.length - 1));
  const first = steady[0] ?? 0;
  const last = steady.at(-1) ?? 0;
  console.log(`summary: ${minutes} min, ${playerCount} players, ${publisherCount} churning publishers (${counts.publishes} publishes); ` +
    `rss at minute 5 ${first.toFixed(1)} MB, at the end ${last.toFixed(1)} MB, max ${Math.max(...steady).toFixed(1)} MB, after idle ${after.toFixed(1)} MB; ` +
    `clients left besides the ffmpeg publisher: ${left}; whep ${counts.whepReceiving}/${counts.whepPlayers} receiving; hls ${counts.hlsSegments} segments, ${counts.hlsErrors} errors`);
  const starved = counts.rtmpBytes === 0 || counts.flvBytes === 0 || counts.hlsSegments === 0 || counts.whepReceiving < counts.whepPlayers * 0.9;
  if (left !== 0 || starved) process.exitCode = 1;
} finally {
  ff.kill('SIGKILL');
  stopping = true;
  await server.stop();
}
process.exit();
