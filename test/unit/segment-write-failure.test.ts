/**
 * A full disk (issue 11 item 8): a segment whose write failed never enters
 * the playlist or the MPD, its temp file is gone, one warning per burst, no
 * on_hls for it, and the stream recovers by itself when writes work again.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { buildVhostConfig, type VhostConfig } from '../../src/config/vhost-config.js';
import { parseConfigTree } from '../../src/config/parser.js';
import { HlsTsStream } from '../../src/outputs/hls/hls-ts-stream.js';
import { DashStream } from '../../src/outputs/dash/dash-stream.js';
import { DiskFileStore, type FileStore } from '../../src/outputs/segment/file-store.js';
import type { HlsSegmentNotice } from '../../src/outputs/hls/hls-segment-notice.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]);

/** Files in memory; `full` makes every write of a matching path fail as ENOSPC does. */
class FullDiskStore implements FileStore {
  readonly files = new Map<string, Buffer>();
  full: RegExp | null = null;
  failures = 0;
  /** Called after each successful write, to check what a reader would see at that moment. */
  onWrite: (path: string) => void = () => undefined;
  async write(path: string, chunks: readonly Buffer[] | string): Promise<void> {
    if (this.full?.test(path)) {
      this.failures++;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    this.files.set(path, typeof chunks === 'string' ? Buffer.from(chunks) : Buffer.concat(chunks as Buffer[]));
    this.onWrite(path);
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
}

interface LogLine {
  level: number;
  msg: string;
}

function capturingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

function vhost(body: string): VhostConfig {
  const root = parseConfigTree(`vhost v { ${body} }`, 'test.conf');
  return buildVhostConfig('v', root.children.find((d) => d.name === 'vhost'), {}, 60000);
}

interface Sink {
  onFrame(f: MediaFrame): void;
}

function headers(s: Sink): void {
  s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
  s.onFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
}

/** Feeds `seconds` of 25 fps video, a keyframe each second, with AAC audio, from `from` ms. */
function feed(s: Sink, seconds: number, from: number): number {
  const end = from + seconds * 1000;
  let a = from;
  for (let t = from; t < end; t += 40) {
    const key = (t - from) % 1000 === 0;
    s.onFrame(new MediaFrame('video', 'H264', t, t, key, false, Buffer.from([0, 0, 0, 3, key ? 0x65 : 0x41, 1, 2]), null));
    for (; a < t + 40; a += 23) s.onFrame(new MediaFrame('audio', 'AAC', a, a, false, false, Buffer.alloc(20, 1), null));
  }
  return end;
}

function playlistUris(text: string): string[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#'));
}

function hlsSetup(store: FileStore, log: Logger, body = 'hls_fragment 1; hls_window 5;'): { s: HlsTsStream; notices: HlsSegmentNotice[] } {
  const notices: HlsSegmentNotice[] = [];
  const s = new HlsTsStream('v', 'live', 'livestream', vhost(`hls { enabled on; hls_path /tmp/hlsfull; ${body} }`).hls, {
    store,
    log,
    notify: (n) => notices.push(n),
    publisher: () => ({ param: '', tcUrl: 'rtmp://127.0.0.1/live' }),
  });
  return { s, notices };
}

describe('segment writes on a full disk', () => {
  test('HLS: a failed segment never enters the playlist; one warning per burst; no on_hls; recovers', async () => {
    const store = new FullDiskStore();
    const { log, lines } = capturingLogger();
    const { s, notices } = hlsSetup(store, log);
    const dir = resolve('/tmp/hlsfull/live');
    const listed: string[][] = [];
    // At every moment a player could read the playlist, everything it lists is a complete file.
    store.onWrite = (path) => {
      if (path !== s.m3u8Abs) return;
      const uris = playlistUris(store.files.get(path)!.toString());
      listed.push(uris);
      for (const u of uris) assert.ok(store.files.has(posix.join(dir, u)), `playlist lists ${u}, never written`);
    };
    s.onPublish();
    headers(s);
    let t = feed(s, 4, 0);
    await s.io.idle();
    const before = s.window.length;
    assert.ok(before >= 3);
    store.full = /\.ts$/;
    t = feed(s, 5, t);
    await s.io.idle();
    assert.ok(store.failures >= 4, `failures ${store.failures}`);
    assert.equal(s.window.length, before, 'nothing new listed while the disk is full');
    store.full = null;
    feed(s, 4, t);
    s.onUnpublish();
    await s.io.idle();

    assert.equal(s.playlist, store.files.get(s.m3u8Abs)!.toString(), 'memory and disk agree');
    const uris = playlistUris(s.playlist!);
    for (const u of uris) assert.ok(store.files.has(posix.join(dir, u)), u);
    // No hole in the numbering: the lost segments' numbers went to the next ones.
    for (let i = 1; i < s.window.length; i++) assert.equal(s.window[i]!.seq, s.window[i - 1]!.seq + 1);
    assert.ok(s.window.some((w) => w.discontinuity), 'the lost time is marked as a discontinuity');
    assert.equal(notices.length, s.segmentsWritten, 'on_hls only for written segments');
    assert.deepEqual(
      notices.map((n) => n.seq),
      notices.map((_, i) => i),
    );
    const warns = lines.filter((l) => l.level === 40 && /segment write failed/.test(l.msg));
    assert.equal(warns.length, 1, 'one warning for the burst');
    assert.equal(lines.filter((l) => l.level === 30 && /segment writes work again/.test(l.msg)).length, 1);
    assert.ok(listed.length > 0);
  });

  test('HLS: a failed playlist write keeps the old playlist and the segments it lists', async () => {
    const store = new FullDiskStore();
    const { log } = capturingLogger();
    const { s, notices } = hlsSetup(store, log, 'hls_fragment 1; hls_window 2;');
    const dir = resolve('/tmp/hlsfull/live');
    s.onPublish();
    headers(s);
    let t = feed(s, 5, 0);
    await s.io.idle();
    const old = s.playlist!;
    const heard = notices.length;
    store.full = /\.m3u8$/;
    t = feed(s, 4, t);
    await s.io.idle();
    assert.equal(s.playlist, old);
    assert.equal(notices.length, heard, 'on_hls waits until the segment is in a playlist');
    for (const u of playlistUris(old)) assert.ok(store.files.has(posix.join(dir, u)), `${u} still listed on disk, kept`);
    store.full = null;
    t = feed(s, 2, t);
    await s.io.idle();
    assert.equal(notices.length, s.segmentsWritten);
    // Once the playlist moved on, what it no longer lists stays only its duration plus the playlist's
    // (RFC 8216 §6.2.2: ~1 + 2 s here), then goes: after 8 s more, the old playlist's segments are gone.
    feed(s, 8, t);
    await s.io.idle();
    for (const u of playlistUris(old)) assert.ok(!store.files.has(posix.join(dir, u)), `${u} removed once its time passed`);
    const tsFiles = [...store.files.keys()].filter((k) => k.endsWith('.ts'));
    assert.ok(tsFiles.length <= s.window.length + 4, `the window and the few slid out since: ${tsFiles.length} files, window ${s.window.length}`);
  });

  test('DASH: a failed segment never enters the MPD; its other track is removed; recovers', async () => {
    const store = new FullDiskStore();
    const { log, lines } = capturingLogger();
    const d = new DashStream('v', 'live', 'livestream', vhost('dash { enabled on; dash_fragment 1; dash_window_size 4; dash_path /tmp/dashfull; }').dash, store, log);
    const check = (): void => {
      const mpd = store.files.get(d.mpdAbs)!.toString();
      for (const m of mpd.matchAll(/<Representation id="(\w+)"[\s\S]*?startNumber="(\d+)"[\s\S]*?<\/SegmentTimeline>/g)) {
        const count = (m[0].match(/<S /g) ?? []).length;
        for (let n = Number(m[2]); n < Number(m[2]) + count; n++) assert.ok(store.files.has(posix.join(d.mediaDir, `${m[1]}-${n}.m4s`)), `MPD lists ${m[1]}-${n}.m4s, never written`);
      }
    };
    store.onWrite = (path) => {
      if (path === d.mpdAbs) check();
    };
    d.onPublish();
    headers(d);
    let t = feed(d, 4, 0);
    await d.io.idle();
    const written = d.segmentsWritten;
    // Audio fails, video does not: the video file of the lost segment must not stay behind.
    store.full = /audio-\d+\.m4s$/;
    t = feed(d, 4, t);
    await d.io.idle();
    assert.equal(d.segmentsWritten, written);
    assert.deepEqual(
      [...store.files.keys()].filter((k) => k.endsWith('.m4s')).length,
      Math.min(written, 4) * 2,
      'no half-written segment left',
    );
    store.full = null;
    feed(d, 3, t);
    d.onUnpublish();
    await d.io.idle();
    assert.ok(d.segmentsWritten > written);
    assert.equal(d.mpd, store.files.get(d.mpdAbs)!.toString());
    check();
    assert.equal(lines.filter((l) => l.level === 40 && /segment write failed/.test(l.msg)).length, 1);
  });

  test('DiskFileStore: a write that fails (ENOSPC, a failed rename) leaves no temp file', { skip: existsSync('/dev/full') ? false : 'no /dev/full on this system' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-full-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const store = new DiskFileStore();
    // A temp path that is a link to /dev/full: a real ENOSPC from write(2), without root.
    symlinkSync('/dev/full', join(dir, 'a.ts.tmp'));
    await assert.rejects(store.write(join(dir, 'a.ts'), [Buffer.alloc(1000)]), /ENOSPC/);
    assert.deepEqual(readdirSync(dir), []);
    // The rename fails (the target is a non-empty directory): the complete temp file goes too.
    await store.write(join(dir, 'b', 'x'), 'x');
    await assert.rejects(store.write(join(dir, 'b'), 'data'));
    assert.deepEqual(readdirSync(dir), ['b']);
    // The same path works when space is back.
    await store.write(join(dir, 'a.ts'), [Buffer.alloc(1000)]);
    assert.equal(readFileSync(join(dir, 'a.ts')).length, 1000);
  });

  test('HLS on disk: a segment lost to ENOSPC leaves no .tmp and is not listed', { skip: existsSync('/dev/full') ? false : 'no /dev/full on this system' }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-hlsfull-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    const notices: HlsSegmentNotice[] = [];
    const s = new HlsTsStream('v', 'live', 'livestream', vhost(`hls { enabled on; hls_path ${root}; hls_fragment 1; hls_window 60; }`).hls, {
      store: new DiskFileStore(),
      log: capturingLogger().log,
      notify: (n) => notices.push(n),
      publisher: () => ({ param: '', tcUrl: '' }),
    });
    const dir = join(root, 'live');
    s.onPublish();
    headers(s);
    let t = feed(s, 3, 0);
    await s.io.idle();
    // The next segment's write hits a full device, once.
    symlinkSync('/dev/full', join(dir, `livestream-${s.sequence}.ts.tmp`));
    t = feed(s, 2, t);
    feed(s, 3, t);
    s.onUnpublish();
    await s.io.idle();
    const files = readdirSync(dir);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.tmp')),
      [],
    );
    const listed = playlistUris(readFileSync(join(root, 'live/livestream.m3u8'), 'utf8'));
    for (const u of listed) assert.ok(files.includes(u), `${u} listed, not on disk`);
    assert.equal(listed.length, files.filter((f) => f.endsWith('.ts')).length);
    assert.equal(notices.length, listed.length);
    await s.dispose('test');
  });
});
