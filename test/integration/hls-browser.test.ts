/**
 * hls.js (from node_modules, served by the server itself) in headless
 * Chromium plays classic HLS and LL-HLS: video.currentTime advances. The
 * test also measures glass-to-player latency: the playlists carry
 * EXT-X-PROGRAM-DATE-TIME (the ingest wall clock of each segment's first
 * frame; ffmpeg `-re` produces each frame at that time, so it is the
 * "glass" time), and latency = Date.now() - hls.playingDate. The figures
 * are printed as diagnostics and recorded in docs/BENCHMARKS.md.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { writePlayerPage, launchPlayerBrowser } from '../helpers/player-browser.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  hls { enabled on; hls_fragment 2; hls_window 10; hls_path ./html; }
}
vhost ll {
  hls { enabled on; hls_ll on; hls_fragment 1; hls_part_duration 0.2; hls_window 10; hls_path ./html; }
}
`;

let server: RunningServer;
let browser: Browser;
const pubs: Proc[] = [];

before(async () => {
  server = await startServer({ config: CONFIG });
  writePlayerPage(join(server.dir, 'html'), 'hls.js');
  pubs.push(publish(server.rtmpUrl('live/classic'), { seconds: 90, gop: 25 }));
  pubs.push(publish(`${server.rtmpUrl('live/low')}?vhost=ll`, { seconds: 90, gop: 25 }));
  browser = await launchPlayerBrowser();
  // Both playlists have media before a player asks (a player that finds none waits out its own retry timers).
  const ready = async (path: string, tag: RegExp): Promise<boolean> => {
    let url = server.httpUrl(path);
    for (let hop = 0; hop < 2; hop++) {
      const r = await fetch(url).catch(() => null);
      if (r === null || r.status !== 200) return false;
      const body = await r.text();
      // hls_ctx: the first answer is a one-variant master playlist naming the session's media playlist.
      const variant = /#EXT-X-STREAM-INF[^\n]*\n([^\n]+)/.exec(body)?.[1];
      if (!variant) return tag.test(body);
      url = new URL(variant.trim(), url).toString();
    }
    return false;
  };
  assert.ok(await waitFor(async () => (await ready('live/classic.m3u8', /(#EXTINF[^]*){2}/)) && (await ready('live/low.m3u8?vhost=ll', /#EXT-X-PART:/)), 30_000, 200), 'no segments in 30 s');
});

after(async () => {
  await browser?.close();
  for (const p of pubs) await p.stop();
  await server?.stop();
});

interface PlayResult {
  advanced: number;
  latencies: number[];
  error: string;
}

async function play(url: string, lowLatency: boolean, seconds: number): Promise<PlayResult> {
  const page = await browser.newPage();
  try {
    await page.goto(server.httpUrl('player/index.html'));
    return await page.evaluate(
      async ({ url, lowLatency, seconds }) => {
        type HlsLike = { loadSource(u: string): void; attachMedia(v: HTMLVideoElement): void; on(e: string, cb: (ev: string, d: { fatal?: boolean; details?: string }) => void): void; playingDate: Date | null; destroy(): void };
        const H = (window as unknown as { Hls: { new (c: object): HlsLike; isSupported(): boolean; Events: Record<string, string> } }).Hls;
        if (!H.isSupported()) return { advanced: 0, latencies: [], error: 'MSE not supported' };
        const v = document.getElementById('v') as HTMLVideoElement;
        const hls = new H({ lowLatencyMode: lowLatency });
        let error = '';
        hls.on(H.Events.ERROR!, (_e, d) => {
          if (d.fatal) error = `fatal: ${d.details}`;
        });
        hls.loadSource(url);
        hls.attachMedia(v);
        void v.play().catch(() => {});
        const start = performance.now();
        // Measure from real playback, not from the first decoded frame: hls.js may
        // hold the very start while it settles at the live edge.
        while (v.currentTime < 0.5 && performance.now() - start < 20000 && !error) await new Promise((r) => setTimeout(r, 100));
        const t0 = v.currentTime;
        const latencies: number[] = [];
        const until = performance.now() + seconds * 1000;
        while (performance.now() < until && !error) {
          await new Promise((r) => setTimeout(r, 250));
          const d = hls.playingDate;
          if (d && !v.paused) latencies.push(Date.now() - d.getTime());
        }
        const advanced = v.currentTime - t0;
        hls.destroy();
        return { advanced, latencies, error };
      },
      { url, lowLatency, seconds },
    );
  } finally {
    await page.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

test('hls.js plays classic HLS (TS) and LL-HLS (fMP4 parts); latency measured', async (t) => {
  const classic = await play(server.httpUrl('live/classic.m3u8'), false, 8);
  assert.equal(classic.error, '');
  assert.ok(classic.advanced > 3, `classic HLS: currentTime advanced ${classic.advanced} s in 8 s`);
  const low = await play(server.httpUrl('live/low.m3u8?vhost=ll'), true, 10);
  assert.equal(low.error, '');
  assert.ok(low.advanced > 3, `LL-HLS: currentTime advanced ${low.advanced} s in 10 s`);
  const c = median(classic.latencies);
  const l = median(low.latencies);
  t.diagnostic(`glass-to-player latency, hls.js in headless Chromium: classic HLS (hls_fragment 2, GOP 1 s) median ${c} ms; LL-HLS (hls_fragment 1, part 0.2 s) median ${l} ms`);
  console.log(JSON.stringify({ latencyMs: { classic: c, llhls: l, classicSamples: classic.latencies.length, llSamples: low.latencies.length } }));
  assert.ok(l > 0 && c > 0, 'latencies measured');
  assert.ok(l < c, `LL-HLS (${l} ms) is lower than classic (${c} ms)`);
});
