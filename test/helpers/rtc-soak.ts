/**
 * WebRTC soak (a script, not a test):
 *   node dist/test/helpers/rtc-soak.js [minutes=3] [wave=40] [--follow-client-address off]
 * One node-datachannel WHIP publisher (H.264-shaped RTP, ~1 Mbit/s, an IDR
 * every 2 s, rtc_to_rtmp off) and one RTMP stream bridged to WebRTC; waves
 * of WHEP players join both in parallel, stay 2.5–6 s (an IDR comes every
 * 2 s) and leave, half by
 * DELETE and half by vanishing (the server must find out by itself); the
 * WHIP publisher republishes now and then and garbage hits the UDP port.
 * Prints, per wave, the server's RSS, sessions and clients; fails loudly if
 * the server exits, if a wave's players get no media, or if sessions are
 * left behind at the end.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { startServer } from './server-process.js';
import { sleep } from './ffmpeg.js';
import { rtcConfig, RTC_PORT } from './rtc-browser.js';
import { ndcWhep, ndcWhip, type NdcPlayer, type WhipPublisher } from './rtc-ndc-client.js';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function del(location: string | null, api: string): Promise<void> {
  if (!location) return;
  await fetch(new URL(location, api), { method: 'DELETE' }).catch(() => undefined);
}

const args = process.argv.slice(2);
const nums = args.filter((a) => /^\d+$/.test(a)).map(Number);
const minutes = nums[0] ?? 3;
const wave = nums[1] ?? 40;
const followAt = args.indexOf('--follow-client-address');
const follow = followAt < 0 || args[followAt + 1] !== 'off';

const server = await startServer({ config: rtcConfig(RTC_PORT, 'rtc { enabled on; rtmp_to_rtc on; rtc_to_rtmp off; }', `follow_client_address ${follow ? 'on' : 'off'};`) });
const rtcPort = server.port('RTC');
const pid = server.proc.pid!;
let exited = false;
let stopping = false;
void server.exited.then((code) => {
  if (stopping) return;
  exited = true;
  console.error(`SERVER EXITED with ${String(code)}; last log lines:`);
  for (const l of server.logs.slice(-30)) console.error(JSON.stringify(l));
  process.exit(1);
});
const api = server.apiUrl('').replace(/\/$/, '');
const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(minutes * 60 + 60),
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', '800k', '-g', '50', '-bf', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', server.rtmpUrl('live/soakrtmp')]);
const junk = dgram.createSocket('udp4');
let pub: WhipPublisher | null = null;
let failures = 0;
try {
  await server.waitForLog((l) => l.msg === 'publish started', 10_000);
  pub = await ndcWhip(`${api}/rtc/v1/whip/?app=live&stream=soakrtc`);
  const end = Date.now() + minutes * 60_000;
  let n = 0;
  while (Date.now() < end && !exited) {
    n++;
    if (n % 5 === 0) {
      // The WHIP publisher leaves (DELETE) and comes back.
      await del(pub.location, api);
      pub.close();
      await sleep(300);
      pub = await ndcWhip(`${api}/rtc/v1/whip/?app=live&stream=soakrtc`);
    }
    for (let i = 0; i < 200; i++) junk.send(Buffer.alloc(1 + (i % 150), (i * 37) & 0xff), rtcPort, '127.0.0.1');
    const joins = Array.from({ length: wave }, (_, i) => ndcWhep(`${api}/rtc/v1/whep/?app=live&stream=${i % 2 ? 'soakrtc' : 'soakrtmp'}`).catch((e: Error) => e));
    const got = await Promise.all(joins);
    const players = got.filter((p): p is NdcPlayer => !(p instanceof Error));
    const errors = got.filter((p): p is Error => p instanceof Error);
    await sleep(2500 + Math.random() * 3500);
    const receiving = players.filter((p) => p.video.packets > 0).length;
    const byStream = (name: string): string => `${players.filter((p, i) => p.location !== null && (i % 2 ? 'soakrtc' : 'soakrtmp') === name && p.video.packets > 0).length}`;
    if (receiving < players.length * 0.9) failures++;
    await Promise.all(players.map(async (p, i) => {
      if (i % 2) await del(p.location, api);
      p.close();
    }));
    const summary = (await (await fetch(`${api}/api/v1/clients/?count=1000`)).json()) as { clients?: unknown[] };
    console.log(`wave ${n}: ${players.length}/${wave} answered (${errors.length} errors${errors[0] ? `: ${errors[0].message}` : ''}), ${receiving} receiving (rtmp ${byStream('soakrtmp')}, whip ${byStream('soakrtc')}); server RSS ${rssMb(pid).toFixed(0)} MB, clients ${summary.clients?.length ?? '?'}`);
  }
  pub.close();
  await del(pub.location, api);
  pub = null;
  // Vanished players are found out by the server (consent / disconnected timeouts).
  let left = -1;
  for (let i = 0; i < 60 && left !== 0; i++) {
    await sleep(1000);
    const c = (await (await fetch(`${api}/api/v1/clients/?count=1000`)).json()) as { clients?: { type?: string }[] };
    left = (c.clients ?? []).filter((x) => /rtc/i.test(String(x.type))).length;
  }
  console.log(`after the soak: ${left} WebRTC clients left, server RSS ${rssMb(pid).toFixed(0)} MB, waves with < 90 % receiving: ${failures}`);
  if (left !== 0 || failures > 0) process.exitCode = 1;
} finally {
  pub?.close();
  junk.close();
  ff.kill('SIGKILL');
  stopping = true;
  await server.stop();
}
process.exit();
