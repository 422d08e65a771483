/**
 * HLS on a really full disk (issue 11 item 8): hls_path on a 2 MB tmpfs,
 * filled up while ffmpeg publishes. The playlist (on disk and served) lists
 * only complete segments, failed writes leave no `.tmp`, the server warns
 * once, and it recovers by itself when the space comes back.
 *
 * Mounting a tmpfs needs root (CI runs as root); elsewhere the test is
 * skipped with the reason. The mount is removed after the test, on failure
 * too, and at process exit should the test runner die before `after`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { startServer, type LogLine, type RunningServer } from '../helpers/server-process.js';
import { publish, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { fillDisk, mountTmpfs } from '../helpers/tmpfs.js';

const disk = mountTmpfs(2, 'sluice-fulldisk-');
const mnt = disk.dir;
const skip = disk.skip;
const cleanupMount = disk.cleanup;

let server: RunningServer | undefined;
let live: Proc | undefined;

after(async () => {
  try {
    await live?.stop();
    await server?.stop();
  } finally {
    cleanupMount();
  }
});

const dir = join(mnt, 'live');
const m3u8 = join(dir, 'livestream.m3u8');

function listed(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\?.*/, ''));
}

/** Every segment the playlist on disk lists is a complete file (the rename happened, so it is not empty). */
function diskPlaylistComplete(): void {
  if (!existsSync(m3u8)) return;
  for (const u of listed(readFileSync(m3u8, 'utf8'))) {
    const f = join(dir, u);
    assert.ok(existsSync(f) && statSync(f).size > 0, `playlist lists ${u}, not a complete file`);
  }
}

const tmpFiles = (): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tmp')) : []);

async function served(): Promise<string[]> {
  const r = await fetch(server!.httpUrl('/live/livestream.m3u8'));
  return r.ok ? listed(await r.text()) : [];
}

test('HLS on a full disk: only complete segments listed, no .tmp left, one warning, recovery', { skip: skip ?? false, timeout: 120_000 }, async () => {
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  hls { enabled on; hls_fragment 1; hls_window 3; hls_path ${mnt}; hls_dispose 0; hls_ctx off; }
}
`,
  });
  live = publish(server.rtmpUrl('live/livestream'), { seconds: 60, gop: 25 });
  assert.ok(await waitFor(() => existsSync(m3u8) && listed(readFileSync(m3u8, 'utf8')).length >= 2, 30_000), 'first segments');

  const isWarn = (l: LogLine): boolean => l.level === 40 && /HLS segment write failed/.test(l.msg);
  const warned = server.waitForLog(isWarn, 30_000);
  const filler = join(mnt, 'filler');
  fillDisk(filler);
  await warned;
  const before = await served();

  // Full for a few segments: each attempt shows as its temp file appearing and going (inotify).
  let attempts = 0;
  const watcher = watch(dir, (_event, name) => {
    if (name?.endsWith('.ts.tmp') && !existsSync(join(dir, name))) attempts++;
  });
  try {
    for (let seen = 0; seen < 3; ) {
      assert.ok(await waitFor(() => attempts > seen, 10_000), `a segment write attempt after ${seen}`);
      seen = attempts;
      diskPlaylistComplete();
      for (const u of await served()) assert.ok(existsSync(join(dir, u)), `served playlist lists ${u}, not on disk`);
    }
  } finally {
    watcher.close();
  }
  assert.deepEqual(await served(), before, 'no new entry while the disk is full');
  assert.ok(await waitFor(() => tmpFiles().length === 0, 5000), `temp files left: ${tmpFiles().join(' ')}`);
  assert.equal(server.logs.filter(isWarn).length, 1, 'one warning for the burst, not one per segment');

  // Space comes back: the server goes on by itself.
  const recovered = server.waitForLog((l) => /HLS segment writes work again/.test(l.msg), 30_000);
  rmSync(filler);
  const back = await recovered;
  assert.ok(Number(back['failed']) >= 3, `failed writes counted: ${String(back['failed'])}`);
  assert.ok(await waitFor(async () => (await served()).some((u) => !before.includes(u)), 20_000), 'new segments listed again');
  diskPlaylistComplete();
  for (const u of await served()) {
    const seg: Response = await fetch(server.httpUrl(`/live/${u}`));
    assert.equal(seg.status, 200, u);
    await seg.arrayBuffer();
  }
  await live.stop();
  live = undefined;
  assert.ok(await waitFor(() => tmpFiles().length === 0, 10_000), `temp files left: ${tmpFiles().join(' ')}`);
});
