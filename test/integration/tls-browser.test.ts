/**
 * Headless Chromium over HTTPS (test CA, certificate errors ignored by the
 * browser context): hls.js plays HLS and LL-HLS (low-latency mode, blocking
 * reloads) from an HTTPS page over HTTP/2, a page
 * served on the HTTPS port plays by WHEP through the API sharing that port
 * (h2 too), and the project's FLV player (mpegts.js) plays WebSocket-FLV
 * over wss:// (HTTP/1.1 upgrade on the same port).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, type Proc } from '../helpers/ffmpeg.js';
import { launchChromium, whepPlay, playStats, until } from '../helpers/rtc-browser.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';
import { request } from 'node:https';

let ca: TestCa;
let server: RunningServer;
let browser: Browser;
let context: BrowserContext;
let pub: Proc;
let llPub: Proc;

before(async () => {
  ca = makeTestCa();
  const c = ca.issue('server', ['sluice.test']);
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{HTTP}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; https { enabled on; listen {{HTTPS}}; key ${c.key}; cert ${c.cert}; } }
rtc_server { enabled on; listen {{RTC}}; candidate 127.0.0.1; }
vhost __defaultVhost__ {
  rtc { enabled on; rtmp_to_rtc on; }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  hls { enabled on; hls_fragment 1; hls_window 10; hls_path ./html; }
  play { gop_cache on; }
}
vhost ll {
  hls { enabled on; hls_ll on; hls_fragment 1; hls_part_duration 0.5; hls_window 10; hls_ctx off; hls_path ./html/ll; }
}
`,
  });
  const html = join(server.dir, 'html');
  mkdirSync(join(html, 'player'), { recursive: true });
  const require = createRequire(import.meta.url);
  copyFileSync(join(dirname(require.resolve('hls.js/package.json')), 'dist', 'hls.min.js'), join(html, 'player', 'hls.min.js'));
  writeFileSync(join(html, 'player', 'index.html'), '<!doctype html><html><body><video id="v" muted autoplay playsinline></video><script src="hls.min.js"></script></body></html>');
  pub = publish(server.rtmpUrl('live/s'), { seconds: 60, gop: 25, size: '640x360' });
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
  llPub = publish(server.rtmpUrl('live/ll?vhost=ll'), { seconds: 60, gop: 25 });
  browser = await launchChromium();
  context = await browser.newContext({ ignoreHTTPSErrors: true });
});

after(async () => {
  await context?.close();
  await browser?.close();
  await pub?.stop();
  await llPub?.stop();
  await server?.stop();
  ca?.remove();
});

const httpsUrl = (p: string): string => `https://127.0.0.1:${server.port('HTTPS')}/${p}`;

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

test('hls.js in Chromium plays HLS from an HTTPS page', { timeout: 60_000 }, async () => {
  // The first segment closes a fragment after the publish starts: play once the playlist is there.
  assert.ok(await waitFor(async () => (await status(httpsUrl('live/s.m3u8'))) === 200, 20_000, 250), 'playlist over HTTPS');
  const page = await context.newPage();
  try {
    await page.goto(httpsUrl('player/index.html'));
    assert.equal(await page.evaluate(() => window.isSecureContext && location.protocol), 'https:');
    const r = await page.evaluate(async (url) => {
      type HlsLike = { loadSource(u: string): void; attachMedia(v: HTMLVideoElement): void; on(e: string, cb: (ev: string, d: { fatal?: boolean; details?: string }) => void): void; destroy(): void };
      const H = (window as unknown as { Hls: { new (c: object): HlsLike; Events: Record<string, string> } }).Hls;
      const v = document.getElementById('v') as HTMLVideoElement;
      const hls = new H({});
      let error = '';
      hls.on(H.Events.ERROR!, (_e, d) => {
        if (d.fatal) error = `fatal: ${d.details}`;
      });
      hls.loadSource(url);
      hls.attachMedia(v);
      void v.play().catch(() => {});
      const start = performance.now();
      while (v.currentTime < 0.5 && performance.now() - start < 30000 && !error) await new Promise((res) => setTimeout(res, 100));
      const t0 = v.currentTime;
      await new Promise((res) => setTimeout(res, 5000));
      const advanced = v.currentTime - t0;
      const width = v.videoWidth;
      hls.destroy();
      // How each media request went: the playlist and its segments over HTTP/2 (ALPN h2 on the HTTPS port).
      const protocols = performance.getEntriesByType('resource').filter((e) => /\.(m3u8|ts)(\?|$)/.test(e.name)).map((e) => (e as PerformanceResourceTiming).nextHopProtocol);
      return { advanced, error, width, protocols };
    }, httpsUrl('live/s.m3u8'));
    assert.equal(r.error, '');
    assert.ok(r.advanced > 2, `currentTime advanced ${r.advanced} s in 5 s`);
    assert.equal(r.width, 640);
    assert.ok(r.protocols.length >= 3, `media requests ${JSON.stringify(r.protocols)}`);
    assert.deepEqual([...new Set(r.protocols)], ['h2']);
  } finally {
    await page.close();
  }
});

test('hls.js in low-latency mode plays LL-HLS over h2: blocking playlist reloads and parts, every one over h2', { timeout: 60_000 }, async () => {
  const url = httpsUrl('live/ll.m3u8?vhost=ll');
  assert.ok(await waitFor(async () => (await status(url)) === 200, 20_000, 250), 'LL-HLS playlist over HTTPS');
  const page = await context.newPage();
  try {
    await page.goto(httpsUrl('player/index.html'));
    const r = await page.evaluate(async (u) => {
      type HlsLike = { loadSource(u: string): void; attachMedia(v: HTMLVideoElement): void; on(e: string, cb: (ev: string, d: { fatal?: boolean; details?: string }) => void): void; destroy(): void };
      const H = (window as unknown as { Hls: { new (c: object): HlsLike; Events: Record<string, string> } }).Hls;
      const v = document.getElementById('v') as HTMLVideoElement;
      const hls = new H({ lowLatencyMode: true });
      let error = '';
      hls.on(H.Events.ERROR!, (_e, d) => {
        if (d.fatal) error = `fatal: ${d.details}`;
      });
      hls.loadSource(u);
      hls.attachMedia(v);
      void v.play().catch(() => {});
      const start = performance.now();
      while (v.currentTime < 0.5 && performance.now() - start < 30000 && !error) await new Promise((res) => setTimeout(res, 100));
      const t0 = v.currentTime;
      await new Promise((res) => setTimeout(res, 5000));
      const advanced = v.currentTime - t0;
      hls.destroy();
      const entries = performance.getEntriesByType('resource').filter((e) => /\/live\/ll[.-]/.test(e.name)) as PerformanceResourceTiming[];
      return {
        advanced,
        error,
        blocking: entries.filter((e) => e.name.includes('_HLS_msn=')).length,
        parts: entries.filter((e) => /ll-\d+\.\d+\.m4s/.test(e.name)).length,
        protocols: [...new Set(entries.map((e) => e.nextHopProtocol))],
      };
    }, url);
    assert.equal(r.error, '');
    assert.ok(r.advanced > 2, `currentTime advanced ${r.advanced} s in 5 s`);
    assert.ok(r.blocking >= 3, `${r.blocking} blocking playlist reloads`);
    assert.ok(r.parts >= 3, `${r.parts} parts fetched`);
    assert.deepEqual(r.protocols, ['h2']);
  } finally {
    await page.close();
  }
});

test('WHEP from a page on the HTTPS port: H.264 frames decode', { timeout: 60_000 }, async () => {
  const page = await context.newPage();
  try {
    await page.goto(httpsUrl('api/v1/versions'));
    await whepPlay(page, httpsUrl('rtc/v1/whep/?app=live&stream=s'));
    const s = await until(() => playStats(page), (v) => v.framesDecoded > 40, 25_000);
    assert.ok(s.framesDecoded > 40, `frames decoded ${JSON.stringify(s)}`);
    assert.equal(s.frameWidth, 640);
    assert.match(s.videoCodec, /H264/i);
    // The page and the WHEP offer/answer went over HTTP/2.
    const protocols = await page.evaluate(() => [
      (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol,
      ...performance.getEntriesByType('resource').filter((e) => e.name.includes('/rtc/v1/whep/')).map((e) => (e as PerformanceResourceTiming).nextHopProtocol),
    ]);
    assert.ok(protocols.length >= 2, JSON.stringify(protocols));
    assert.deepEqual([...new Set(protocols)], ['h2']);
    // HTTP/2 has no Connection header: the WebRTC API's answers over h2 carry none (node warns on one).
    assert.doesNotMatch(server.stderr(), /UnsupportedWarning|connection-specific/i);
  } finally {
    await page.close();
  }
});

test('WebSocket-FLV over wss:// in Chromium: the project\'s FLV player (mpegts.js) decodes frames', { timeout: 60_000 }, async () => {
  const page = await context.newPage();
  try {
    // The player page builds wss://<host>/live/s.flv from an https:// page.
    await page.goto(httpsUrl('players/flv.html?ws=1&app=live&stream=s'));
    assert.equal(await page.locator('#url').inputValue(), `wss://127.0.0.1:${server.port('HTTPS')}/live/s.flv`);
    const r = await page.evaluate(async () => {
      const v = document.getElementById('video') as HTMLVideoElement;
      const start = performance.now();
      while (v.currentTime < 0.5 && performance.now() - start < 30000) await new Promise((res) => setTimeout(res, 100));
      const t0 = v.currentTime;
      const f0 = v.getVideoPlaybackQuality().totalVideoFrames;
      await new Promise((res) => setTimeout(res, 4000));
      return { advanced: v.currentTime - t0, frames: v.getVideoPlaybackQuality().totalVideoFrames - f0, width: v.videoWidth, height: v.videoHeight };
    });
    assert.ok(r.advanced > 2, `currentTime advanced ${r.advanced} s in 4 s`);
    assert.ok(r.frames > 40, `${r.frames} frames decoded in 4 s`);
    assert.equal(r.width, 640);
    assert.equal(r.height, 360);
    // The server saw a WebSocket player, not HTTP-FLV.
    assert.ok(server.logs.some((l) => l.msg === 'live remux play started' && l['via'] === 'ws' && l['format'] === 'flv'), 'a WebSocket-FLV player on the server');
  } finally {
    await page.close();
  }
});
