#!/usr/bin/env node
/**
 * `npm run bench -- <command> [options]`: the load generator (see docs/BENCHMARKS.md).
 *
 *   rtmp-play  --url rtmp://127.0.0.1:1935/live/livestream --players 1000 [--rate 500] [--duration 30] [--pid PID[,PID]]
 *   flv-play   --url http://127.0.0.1:8080/live/livestream.flv --players 1000 ... [--h2: https:// over HTTP/2]
 *   publish    --url rtmp://127.0.0.1:1935/live/bench --publishers 100 ...
 *   latency    --url rtmp://127.0.0.1:1935/live/livestream [--play-url URL] [--duration 30]
 *   llhls-play --url http://127.0.0.1:8080/live/livestream.m3u8 --players 1000 [--rate 200] [--duration 30] [--pid PID]
 *   matrix     [--servers sluice-mw,sluice-rt,nms,nginx] [--players 500,1000,2000,4000] [--publishers 100,500,1000] [--steady 20]
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BenchError } from './bench-error.js';
import { describeLatency, runLatency } from './latency-run.js';
import { runMatrix } from './matrix.js';
import { describePlay, runPlay } from './play-run.js';
import { describePublish, runPublish } from './publish-run.js';
import { describeAudience, runAudience } from './llhls-audience.js';
import { parsePids } from './run-clock.js';
import { loadWorkload, type Workload } from './workload.js';

export const DEFAULT_WORKLOAD = fileURLToPath(new URL('../../bench/.work/workload.flv', import.meta.url));

const USAGE = `usage: npm run bench -- <rtmp-play|flv-play|publish|latency|llhls-play|matrix> [options]
common:  --url URL  --duration S (total, default 30)  --interval S (report, default 5)  --pid PID[,PID] (server, children included)
         --file FLV (workload, default bench/.work/workload.flv)  --json (final result as JSON on stdout)
play:    --players N  --rate N/s (default 500)  --window S (default 10)  --settle S (default 3)
         --player skim|continuous (default skim: bodies skipped after the first frame; continuous: every message parsed, sb_rtmp_load style)
         --stream-kbps K (default: from --file)  --publish-url rtmp://... (publish the workload there first)
         --h2 (flv-play of an https:// URL over HTTP/2, one connection per player)
publish: --publishers N  --rate N/s (default 100)  --tick MS (default 40)   (publisher i publishes URL-i)
llhls:   --players N  --rate N/s (default 200)   (each: blocking playlist reload + part fetch, as hls.js)
latency: --play-url URL (rtmp:// or http://, default: --url)  --skip S (samples left out at the start, default 3)
matrix:  --servers sluice-mw,sluice-rt,sluice-rtn,sluice-base,nms,nginx (sluice-rtn: realtime with Nagle, as nginx-rtmp; sluice-base: the build at $SLUICE_BASE_CLI)  --players 500,1000,2000,4000  --publishers 100,500,1000  --player skim|continuous
         --steady S (default 20)  --protos rtmp,flv  --out FILE.json`;

function num(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new BenchError(`--${name} must be a non-negative number, got "${v}"`);
  return n;
}

function loopbackOnly(url: string): void {
  const h = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!(h === 'localhost' || h === '::1' || /^127\./.test(h))) throw new BenchError(`the bench only targets loopback addresses, not ${h}`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values: v } = parseArgs({
    args: rest,
    options: {
      url: { type: 'string' },
      'play-url': { type: 'string' },
      'publish-url': { type: 'string' },
      players: { type: 'string' },
      publishers: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      interval: { type: 'string' },
      window: { type: 'string' },
      settle: { type: 'string' },
      skip: { type: 'string' },
      tick: { type: 'string' },
      pid: { type: 'string' },
      file: { type: 'string' },
      'stream-kbps': { type: 'string' },
      json: { type: 'boolean' },
      h2: { type: 'boolean' },
      servers: { type: 'string' },
      protos: { type: 'string' },
      steady: { type: 'string' },
      out: { type: 'string' },
      player: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help || !command) {
    console.log(USAGE);
    return;
  }
  const json = v.json ?? false;
  const log = (line: string): void => {
    (json ? process.stderr : process.stdout).write(line + '\n');
  };
  const file = v.file ?? DEFAULT_WORKLOAD;
  const workload = (): Workload => loadWorkload(file);
  const duration = num(v.duration, 30, 'duration');
  const interval = Math.max(1, num(v.interval, 5, 'interval'));
  const pids = parsePids(v.pid);
  const out = (text: string, obj: unknown): void => {
    if (json) process.stdout.write(JSON.stringify(obj) + '\n');
    else console.log(text);
  };
  const player = v.player ?? 'skim';
  if (player !== 'skim' && player !== 'continuous') throw new BenchError(`--player must be skim or continuous, got "${player}"`);
  switch (command) {
    case 'rtmp-play':
    case 'flv-play': {
      if (!v.url) throw new BenchError('--url is required');
      loopbackOnly(v.url);
      const players = num(v.players, 100, 'players');
      if (players < 1 || players > 20000) throw new BenchError('--players must be 1..20000');
      let streamKbps = v['stream-kbps'] !== undefined ? num(v['stream-kbps'], 0, 'stream-kbps') : NaN;
      const w = v['publish-url'] || existsSync(file) ? workload() : null;
      if (!Number.isFinite(streamKbps) && w) streamKbps = w.kbps;
      if (v['publish-url']) loopbackOnly(v['publish-url']);
      const r = await runPlay({
        proto: command === 'rtmp-play' ? 'rtmp' : 'flv',
        h2: v.h2 === true,
        url: v.url,
        players,
        rate: Math.max(1, num(v.rate, 500, 'rate')),
        duration,
        interval,
        window: Math.max(1, num(v.window, 10, 'window')),
        settle: num(v.settle, 3, 'settle'),
        pids,
        streamKbps,
        continuous: player === 'continuous',
        publish: v['publish-url'] && w ? { url: v['publish-url'], workload: w } : undefined,
        log,
      });
      out(describePlay(r), r);
      return;
    }
    case 'publish': {
      if (!v.url) throw new BenchError('--url is required');
      loopbackOnly(v.url);
      const publishers = num(v.publishers, 10, 'publishers');
      if (publishers < 1 || publishers > 10000) throw new BenchError('--publishers must be 1..10000');
      const r = await runPublish({
        url: v.url,
        publishers,
        rate: Math.max(1, num(v.rate, 100, 'rate')),
        duration,
        interval,
        settle: num(v.settle, 3, 'settle'),
        tickMs: Math.max(1, num(v.tick, 40, 'tick')),
        pids,
        workload: workload(),
        log,
      });
      out(describePublish(r), r);
      return;
    }
    case 'latency': {
      if (!v.url) throw new BenchError('--url is required');
      const playUrl = v['play-url'] ?? v.url;
      loopbackOnly(v.url);
      loopbackOnly(playUrl);
      const r = await runLatency({ publishUrl: v.url, playUrl, duration, interval, skip: num(v.skip, 3, 'skip'), workload: workload(), log });
      out(describeLatency(r), r);
      return;
    }
    case 'llhls-play': {
      if (!v.url) throw new BenchError('--url is required');
      loopbackOnly(v.url);
      const players = num(v.players, 100, 'players');
      if (players < 1 || players > 20000) throw new BenchError('--players must be 1..20000');
      const r = await runAudience({ url: v.url, players, rate: Math.max(1, num(v.rate, 200, 'rate')), duration, interval, pids, log });
      out(describeAudience(r), r);
      return;
    }
    case 'matrix': {
      const list = (s: string | undefined, d: string): string[] => (s ?? d).split(',').map((x) => x.trim()).filter(Boolean);
      await runMatrix({
        servers: list(v.servers, 'sluice-mw,sluice-rt,nms,nginx'),
        protos: list(v.protos, 'rtmp,flv') as ('rtmp' | 'flv')[],
        players: list(v.players, '500,1000,2000,4000').map(Number),
        publishers: list(v.publishers, '100,500,1000').map(Number),
        steady: num(v.steady, 20, 'steady'),
        player,
        file,
        out: v.out,
        log: (line) => process.stderr.write(line + '\n'),
      });
      return;
    }
    default:
      throw new BenchError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
