/**
 * Headless Chromium (Debian's) as the viewer of the HLS/DASH/FLV player tests,
 * and a bandwidth cap on segment downloads that the page itself switches on
 * (`window.capBandwidth()`), for the ABR tests' level switches.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

/**
 * The test page under the server's web root: `player/index.html`, a muted
 * autoplaying `<video id="v">` with hls.js or dash.js (from node_modules)
 * loaded beside it.
 */
export function writePlayerPage(htmlDir: string, player: 'hls.js' | 'dash.js'): void {
  const dir = join(htmlDir, 'player');
  mkdirSync(dir, { recursive: true });
  const require = createRequire(import.meta.url);
  // dashjs's `require` export is its browser build (dist/modern/umd/dash.all.min.js).
  const [from, name] = player === 'hls.js' ? [join(dirname(require.resolve('hls.js/package.json')), 'dist', 'hls.min.js'), 'hls.min.js'] : [require.resolve('dashjs'), 'dash.all.min.js'];
  copyFileSync(from, join(dir, name));
  writeFileSync(join(dir, 'index.html'), `<!doctype html><html><body><video id="v" muted autoplay playsinline></video><script src="${name}"></script></body></html>`);
}
