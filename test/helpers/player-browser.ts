/**
 * Headless Chromium (Debian's) as the viewer of the HLS/DASH/FLV player tests,
 * and a bandwidth cap on segment downloads that the page itself switches on
 * (`window.capBandwidth()`), for the ABR tests' level switches.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { sleep } from './ffmpeg.js';

export async function launchPlayerBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

/** Once the page calls `capBandwidth()`, every response whose URL matches `segments` is held back as if it came at `kbps`. */
export async function capSegmentsOnCall(page: Page, segments: RegExp, kbps: number): Promise<void> {
  let capped = false;
  await page.route(segments, async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    if (capped) await sleep((body.length * 8) / kbps);
    await route.fulfill({ response, body });
  });
  await page.exposeFunction('capBandwidth', () => {
    capped = true;
  });
}
