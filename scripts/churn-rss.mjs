#!/usr/bin/env node
// Stream churn, measured: starts the built server on its default config (ports
// moved by the arguments), publishes N short streams P at a time with the
// project's socket RTMP client (headers, one second of small frames), and
// prints the server's RSS as it goes and every 10 s for two minutes of idle.
// Usage: node scripts/churn-rss.mjs [streams=2000] [parallel=20] [rounds=1] [rtmpPort=19350] [warm=0]
// warm: streams published first (then 30 s idle) so that the baseline includes the
// one-time cost of a server that has run (compiled code, pools); CHURN_NODE_ARGS adds
// node flags to the server's command line (e.g. --expose-gc with a --import).
// Needs `npm run build` first. Loopback only; bounded by the arguments.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { RtmpClient } = await import(join(ROOT, 'dist/src/clients/rtmp-client.js'));
const { DEFAULT_CONFIG_TEXT } = await import(join(ROOT, 'dist/src/config/default-config-text.js'));
const { AVC_CONFIG, AAC_CONFIG, AAC_FRAME, avcFrame } = await import(join(ROOT, 'dist/test/helpers/synthetic-media.js'));
const [total = 2000, parallel = 20, rounds = 1, port = 19350, warm = 0] = process.argv.slice(2).map(Number);
const nodeArgs = (process.env.CHURN_NODE_ARGS ?? '').split(' ').filter(Boolean);

const dir = mkdtempSync(join(tmpdir(), 'sluice-churn-'));
const conf = join(dir, 'churn.conf');
writeFileSync(conf, DEFAULT_CONFIG_TEXT.replace('1935;', `${port};`).replace('1985;', `${port + 1};`).replace('8080;', `${port + 2};`));
const server = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/src/main/cli.js'), '-c', conf], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
// Interrupted (Ctrl-C, timeout): the server goes with the script.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  process.exit(130);
});
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function once(i) {
  const c = await RtmpClient.connect({ host: '127.0.0.1', port, app: 'live' });
  await c.publish(`churn${i}`);
  c.sendMedia(9, 0, AVC_CONFIG);
  c.sendMedia(8, 0, AAC_CONFIG);
  for (let t = 0; t < 25; t++) {
    c.sendMedia(9, t * 40, avcFrame(t === 0, t === 0 ? 20000 : 3000));
    c.sendMedia(8, t * 40, AAC_FRAME);
  }
  await sleep(300);
  await c.close();
}

try {
  for (let tries = 0; ; tries++) {
    try {
      await (await RtmpClient.connect({ host: '127.0.0.1', port, app: 'live' })).close();
      break;
    } catch (err) {
      if (tries > 100) throw err;
      await sleep(100);
    }
  }
  console.log(`start: rss ${rssMb().toFixed(1)} MB`);
  if (warm > 0) {
    for (let i = 0; i < warm; i += parallel) {
      await Promise.all(Array.from({ length: Math.min(parallel, warm - i) }, (_, k) => once(i + k)));
    }
    await sleep(30_000);
    console.log(`warm (${warm} streams, +30 s idle): rss ${rssMb().toFixed(1)} MB`);
  }
  for (let r = 1; r <= rounds; r++) {
    let peak = 0;
    for (let i = 0; i < total; i += parallel) {
      await Promise.all(Array.from({ length: Math.min(parallel, total - i) }, (_, k) => once(r * 1e6 + i + k)));
      peak = Math.max(peak, rssMb());
    }
    console.log(`round ${r}: ${total} streams, ${parallel} at a time: peak rss ${peak.toFixed(1)} MB, at the end ${rssMb().toFixed(1)} MB`);
    for (let s = 1; s <= 12; s++) {
      await sleep(10_000);
      if (s % 3 === 0) console.log(`  +${s * 10} s idle: rss ${rssMb().toFixed(1)} MB`);
    }
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
