/**
 * The web console and the HTTP-FLV player in headless Chromium: the console
 * (served at the HTTP server's root) lists the published stream with its
 * codec and size, the FLV player plays it (the video clock advances), and
 * the kick button ends the publisher. Screenshots are kept in a temp dir
 * whose path is printed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, sleep, type Proc } from '../helpers/ffmpeg.js';
import { RtmpClient } from '../../src/clients/rtmp-client.js';
import { AVC_CONFIG } from '../helpers/synthetic-media.js';
import { launchPlayerBrowser } from '../helpers/player-browser.js';

let server: RunningServer;
let publisher: Proc;
let browser: Browser | undefined;
const outDir = mkdtempSync(join(tmpdir(), 'sluice-console-test-'));

before(async () => {
  server = await startServer();
  publisher = publish(server.rtmpUrl('live/livestream'), { seconds: 60, size: '320x240', fps: 25, gop: 25 });
  await server.waitForLog((l) => l.msg === 'publish started', 15_000);
  browser = await launchPlayerBrowser();
  console.log(`console test screenshots: ${outDir}`);
});

after(async () => {
  await browser?.close();
  await publisher?.stop();
  await server?.stop();
});

test('console lists the stream, the FLV player plays it, kick ends the publisher', async () => {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.httpUrl(''));
  assert.match(page.url(), /\/console\/$/, 'the root opens the console');
  const row = page.locator('#streams tr[data-url="/live/livestream"]');
  await row.waitFor({ timeout: 15_000 });
  await page.waitForFunction(() => {
    const r = document.querySelector('#streams tr[data-url="/live/livestream"]');
    return r !== null && /H264/.test(r.textContent ?? '') && /320×240/.test(r.textContent ?? '') && Number((r as HTMLTableRowElement).cells[3]!.textContent) > 0;
  }, undefined, { timeout: 15_000 });
  const text = await row.textContent();
  assert.match(text ?? '', /AAC/);
  await page.locator('#clients td', { hasText: 'fmle-publish' }).waitFor({ timeout: 10_000 });
  await sleep(4500); // a few chart points
  await page.screenshot({ path: join(outDir, 'console.png'), fullPage: true });
  assert.deepEqual(errors, []);

  // The FLV player linked from the stream row.
  const href = await row.locator('a.play-flv').getAttribute('href');
  assert.ok(href);
  const player = await browser!.newPage({ viewport: { width: 960, height: 600 } });
  await player.goto(new URL(href, page.url()).toString());
  await player.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).currentTime > 1, undefined, { timeout: 20_000 });
  const t1 = await player.evaluate(() => (document.querySelector('video') as HTMLVideoElement).currentTime);
  // Playback goes on: wait for a further second of media time (a busy machine only makes it slower).
  await player.waitForFunction((from) => (document.querySelector('video') as HTMLVideoElement).currentTime > from + 1, t1, { timeout: 20_000 });
  const t2 = await player.evaluate(() => (document.querySelector('video') as HTMLVideoElement).currentTime);
  assert.ok(t2 > t1 + 1, `video time advances: ${t1} → ${t2}`);
  const size = await player.evaluate(() => {
    const v = document.querySelector('video') as HTMLVideoElement;
    return [v.videoWidth, v.videoHeight];
  });
  assert.deepEqual(size, [320, 240]);
  await player.screenshot({ path: join(outDir, 'flv-player.png') });
  await player.close();

  // The console sees the player as a client, then kicks the publisher.
  await page.locator('#clients td', { hasText: 'flv-play' }).waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
  const kick = page.locator('#clients tr', { hasText: 'fmle-publish' }).locator('button.kick');
  await kick.click();
  const code = await Promise.race([publisher.done, sleep(15_000).then(() => 'running')]);
  assert.notEqual(code, 'running', 'ffmpeg exits after the kick');
  await page.waitForFunction(() => !document.querySelector('#streams tr[data-url="/live/livestream"]') || /idle/.test(document.querySelector('#streams tr[data-url="/live/livestream"]')!.textContent ?? ''), undefined, { timeout: 10_000 });
  await page.screenshot({ path: join(outDir, 'console-after-kick.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

test('console pages through 130 streams and filters them by name', async () => {
  const publishers: RtmpClient[] = [];
  // A publisher that sends nothing for publish.normal_timeout (5 s) is closed, and on a busy machine
  // this test takes longer than that: each publisher sends its sequence header again every second.
  let ts = 0;
  const keepAlive = setInterval(() => {
    ts += 1000;
    for (const c of publishers) c.sendMedia(9, ts, AVC_CONFIG);
  }, 1000);
  try {
    for (let i = 0; i < 130; i++) {
      const c = await RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app: 'pages' });
      assert.equal(await c.publish(`page${i}`), 'NetStream.Publish.Start');
      c.sendMedia(9, ts, AVC_CONFIG);
      publishers.push(c);
    }
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.httpUrl('console/'));
    const rows = (): Promise<number> => page.locator('#streams tbody tr').count();
    // The API's total (published here, plus what the first test left) is what the pager shows.
    await page.waitForFunction(() => /^1–100 of \d+$/.test(document.getElementById('stream-page')!.textContent ?? ''), undefined, { timeout: 15_000 });
    const total = Number(/of (\d+)/.exec((await page.locator('#stream-page').textContent())!)![1]);
    assert.ok(total >= 130, `total ${total}`);
    assert.equal(await rows(), 100);
    await page.locator('#stream-next').click();
    await page.waitForFunction((t) => document.getElementById('stream-page')!.textContent === `101–${t} of ${t}`, total, { timeout: 15_000 });
    await page.waitForFunction((n) => document.querySelectorAll('#streams tbody tr').length === n, total - 100, { timeout: 15_000 });
    assert.ok(await page.locator('#stream-next').isDisabled());
    // page11 and page110..page119: eleven streams, one page, back at the start.
    await page.locator('#stream-filter').fill('page11');
    await page.waitForFunction(() => document.getElementById('stream-page')!.textContent === '1–11 of 11', undefined, { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelectorAll('#streams tbody tr').length === 11, undefined, { timeout: 15_000 });
    const urls = await page.locator('#streams tbody tr').evaluateAll((trs) => trs.map((t) => (t as HTMLElement).dataset['url']).sort());
    assert.deepEqual(urls, ['/pages/page11', ...Array.from({ length: 10 }, (_, k) => `/pages/page11${k}`)].sort());
    // The clients table pages and filters the same way: one publisher per stream.
    await page.locator('#client-filter').fill('page125');
    await page.waitForFunction(() => document.getElementById('client-page')!.textContent === '1–1 of 1', undefined, { timeout: 15_000 });
    // A recording started through the API shows in the console's recordings table.
    const started = await fetch(server.apiUrl('/api/v1/dvrs'), { method: 'POST', body: JSON.stringify({ action: 'start', stream: 'pages/page7' }) });
    assert.equal(((await started.json()) as { code: number }).code, 0);
    const dvrRow = page.locator('#dvrs tbody tr', { hasText: '/pages/page7' });
    await dvrRow.waitFor({ timeout: 15_000 });
    // No file yet: a recording opens its file at the first keyframe, which these streams never send.
    assert.match((await dvrRow.textContent()) ?? '', /^\/pages\/page7session/);
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    clearInterval(keepAlive);
    await Promise.all(publishers.map((c) => c.close()));
  }
});
