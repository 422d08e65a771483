/**
 * HLS AES-128 (hls_keys), the reload restart of a live HLS stream, the
 * #EXT-X-KEY playlist lines, and the fast_cache audio window.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { buildVhostConfig } from '../../src/config/vhost-config.js';
import { parseConfigTree } from '../../src/config/parser.js';
import type { HlsConfig } from '../../src/config/vhost-config.js';
import { silentLogger } from '../../src/log/logger.js';
import { HlsTsStream } from '../../src/outputs/hls/hls-ts-stream.js';
import type { FileStore } from '../../src/outputs/segment/file-store.js';
import { encryptSegment, HlsCipherError, ivHex, newHlsKey, startsNewKey } from '../../src/outputs/hls/hls-segment-cipher.js';
import { writeMediaPlaylist } from '../../src/format/m3u8.js';
import { AudioFastCache, FAST_CACHE_MAX_FRAMES } from '../../src/servers/http-live/audio-fast-cache.js';
import { AacDtsEstimator } from '../../src/outputs/hls/aac-dts-estimator.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]);

class MemoryStore implements FileStore {
  readonly files = new Map<string, Buffer>();
  readonly removed: string[] = [];
  async write(path: string, chunks: readonly Buffer[] | string): Promise<void> {
    this.files.set(path, typeof chunks === 'string' ? Buffer.from(chunks) : Buffer.concat(chunks as Buffer[]));
  }
  async remove(path: string): Promise<void> {
    this.removed.push(path);
    this.files.delete(path);
  }
}

function hlsConfig(body: string): HlsConfig {
  const root = parseConfigTree(`vhost v { hls { enabled on; hls_path /tmp/hlsroot; ${body} } }`, 'test.conf');
  const vhost = root.children.find((d) => d.name === 'vhost');
  return buildVhostConfig('v', vhost, {}, 60000).hls;
}

function setup(body: string): { s: HlsTsStream; store: MemoryStore } {
  const store = new MemoryStore();
  const s = new HlsTsStream('__defaultVhost__', 'live', 'livestream', hlsConfig(body), {
    store,
    log: silentLogger(),
    notify: () => undefined,
    publisher: () => ({ param: '', tcUrl: '' }),
  });
  s.onPublish();
  s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
  s.onFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
  return { s, store };
}

const nal = (key: boolean): Buffer => Buffer.from([0, 0, 0, 3, key ? 0x65 : 0x41, 1, 2]);

/** `seconds` of 25 fps video (keyframe every `gop` s) with AAC, from `from` ms; returns the end time. */
function feed(s: HlsTsStream, seconds: number, gop: number, from = 0): number {
  const end = from + seconds * 1000;
  let a = from;
  for (let t = from; t < end; t += 40) {
    const key = (t - from) % (gop * 1000) === 0;
    s.onFrame(new MediaFrame('video', 'H264', t, t, key, false, nal(key), null));
    for (; a < t + 40; a += 23) s.onFrame(new MediaFrame('audio', 'AAC', a, a, false, false, Buffer.alloc(20, 1), null));
  }
  return end;
}

function decrypt(data: Buffer, key: Buffer, ivHexStr: string): Buffer {
  const d = createDecipheriv('aes-128-cbc', key, Buffer.from(ivHexStr, 'hex'));
  return Buffer.concat([d.update(data), d.final()]);
}

describe('AES-128 segment cipher', () => {
  test('CBC + PKCS7 round trip, output padded to the next 16-byte block', () => {
    const k = newHlsKey(0);
    assert.equal(k.key.length, 16);
    assert.equal(k.iv.length, 16);
    assert.match(ivHex(k.iv), /^[0-9a-f]{32}$/);
    for (const n of [0, 1, 15, 16, 17, 188 * 7, 188 * 100 + 3]) {
      const plain = randomBytes(n);
      const parts = [plain.subarray(0, n >> 1), plain.subarray(n >> 1)];
      const enc = Buffer.concat(encryptSegment(parts, k));
      assert.equal(enc.length, (Math.floor(n / 16) + 1) * 16, `size for ${n}`);
      assert.deepEqual(decrypt(enc, k.key, ivHex(k.iv)), plain);
    }
    assert.throws(() => encryptSegment([Buffer.alloc(4)], { key: Buffer.alloc(8), iv: Buffer.alloc(16) }), HlsCipherError);
  });

  test('a new key every hls_fragments_per_key segments (and when there is none)', () => {
    const k = newHlsKey(0);
    assert.equal(startsNewKey(7, 5, null), true);
    assert.equal(startsNewKey(5, 5, k), true);
    assert.equal(startsNewKey(6, 5, k), false);
    assert.equal(startsNewKey(3, 0, k), true, 'fragments_per_key 0 is treated as 1');
  });

  test('#EXT-X-KEY when the key changes, on the first segment, and METHOD=NONE after keys stop', () => {
    const a = { uri: 'livestream-0.key', iv: '00'.repeat(16) };
    const b = { uri: 'livestream-2.key', iv: 'ab'.repeat(16) };
    const text = writeMediaPlaylist({
      mediaSequence: 1,
      targetDuration: 2,
      segments: [
        { uri: 's1.ts', duration: 2, discontinuity: false, key: a },
        { uri: 's2.ts', duration: 2, discontinuity: true, key: b },
        { uri: 's3.ts', duration: 2, discontinuity: false, key: b },
        { uri: 's4.ts', duration: 2, discontinuity: false },
      ],
    });
    const lines = text.trim().split('\n');
    assert.deepEqual(lines.slice(4), [
      `#EXT-X-KEY:METHOD=AES-128,URI="livestream-0.key",IV=0x${'00'.repeat(16)}`,
      '#EXTINF:2.000, no desc',
      's1.ts',
      '#EXT-X-DISCONTINUITY',
      `#EXT-X-KEY:METHOD=AES-128,URI="livestream-2.key",IV=0x${'ab'.repeat(16)}`,
      '#EXTINF:2.000, no desc',
      's2.ts',
      '#EXTINF:2.000, no desc',
      's3.ts',
      '#EXT-X-KEY:METHOD=NONE',
      '#EXTINF:2.000, no desc',
      's4.ts',
    ]);
  });
});

describe('hls_keys on a live stream', () => {
  test('key files of 16 bytes, a key every hls_fragments_per_key, segments that decrypt to MPEG-TS', async () => {
    const { s, store } = setup('hls_fragment 1; hls_window 100; hls_keys on; hls_fragments_per_key 2; hls_key_file_path /tmp/keys; hls_key_url https://cdn.example.com/k;');
    feed(s, 7.1, 1);
    await s.io.idle();
    const pl = s.playlist!;
    const keyLines = [...pl.matchAll(/#EXT-X-KEY:METHOD=AES-128,URI="([^"]+)",IV=0x([0-9a-f]{32})\n(?:#EXT-X-PROGRAM-DATE-TIME:[^\n]*\n)?#EXTINF:[^\n]*\n(livestream-(\d+)\.ts)/g)];
    assert.ok(s.window.length >= 6, pl);
    // Keys at seq 0, 2, 4, 6: one tag per pair of segments, URI = hls_key_url + '/' + key file.
    assert.deepEqual(keyLines.map((m) => Number(m[4])), s.window.filter((w) => w.seq % 2 === 0).map((w) => w.seq));
    for (const m of keyLines) assert.equal(m[1], `https://cdn.example.com/k/live/livestream-${m[4]}.key`);
    for (const seg of s.window) {
      const keySeq = seg.seq - (seg.seq % 2);
      const key = store.files.get(`/tmp/keys/live/livestream-${keySeq}.key`);
      assert.ok(key, `key file for ${seg.seq}`);
      assert.equal(key.length, 16);
      const iv = keyLines.find((m) => Number(m[4]) === keySeq)![2]!;
      const enc = store.files.get(seg.abs)!;
      assert.equal(enc.length % 16, 0);
      const plain = decrypt(enc, key, iv);
      // Ciphertext's first byte is 0x47 one time in 256: compare whole bodies instead.
      assert.ok(!enc.subarray(0, plain.length).equals(plain), 'encrypted on disk');
      assert.equal(plain.length % 188, 0);
      for (let i = 0; i < plain.length; i += 188) assert.equal(plain[i], 0x47);
    }
  });

  test('default hls_key_url: key URI relative to the playlist; key files leave with their last segment', async () => {
    const { s, store } = setup('hls_fragment 1; hls_window 3; hls_keys on; hls_fragments_per_key 2;');
    feed(s, 12.1, 1);
    await s.io.idle();
    const pl = s.playlist!;
    assert.match(pl, /#EXT-X-KEY:METHOD=AES-128,URI="livestream-\d+\.key",IV=0x[0-9a-f]{32}\n/);
    // The playlist's first segment always carries a key line, even mid-key.
    const first = pl.split('\n').findIndex((l) => l.startsWith('#EXTINF'));
    assert.ok(pl.split('\n').slice(0, first).some((l) => l.startsWith('#EXT-X-KEY:METHOD=AES-128')), pl);
    const keys = [...store.files.keys()].filter((f) => f.endsWith('.key'));
    // The window's keys, and those of segments slid out but still kept for older playlists (RFC 8216 §6.2.2).
    const keyOf = (ts: string): string => ts.replace(/-(\d+)\.ts$/, (_, n: string) => `-${Number(n) - (Number(n) % 2)}.key`);
    const needed = new Set([...store.files.keys()].filter((f) => f.endsWith('.ts')).map(keyOf));
    for (const w of s.window) assert.ok(needed.has(w.keyAbs!), w.keyAbs);
    assert.deepEqual(new Set(keys), needed, 'a key file stays as long as a segment on disk uses it');
    assert.ok(store.removed.some((f) => f.endsWith('livestream-0.key')));
    await s.dispose('test');
    assert.equal([...store.files.keys()].filter((f) => f.endsWith('.key')).length, 0);
  });
});

describe('reload restarts the HLS muxer', () => {
  test('the open segment closes at the next keyframe, then the new hls_fragment applies', async () => {
    const { s } = setup('hls_fragment 2; hls_window 100;');
    const t = feed(s, 6.5, 1);
    await s.io.idle();
    const before = s.window.length;
    assert.ok(s.window.every((w) => Math.abs(w.duration - 2) < 0.05), JSON.stringify(s.window.map((w) => w.duration)));
    s.restart(hlsConfig('hls_fragment 4; hls_window 100; hls_keys on;'));
    feed(s, 13, 1, t);
    await s.io.idle();
    const after = s.window.slice(before);
    // The segment open at reload (from 6 s) ends at the next keyframe (6.5 s), then 4 s segments, with keys now.
    assert.ok(Math.abs(after[0]!.duration - 0.5) < 0.05, JSON.stringify(after.map((w) => w.duration)));
    for (const w of after.slice(1)) assert.ok(Math.abs(w.duration - 4) < 0.05, JSON.stringify(after.map((x) => x.duration)));
    // Segments are encrypted when written (at their close): every one written after the reload is.
    assert.ok(s.window.slice(0, before).every((w) => !w.key));
    assert.ok(after.every((w) => w.key), 'encrypted after the reload');
    // Sequence numbers go on, no gap in media time.
    for (let i = 1; i < s.window.length; i++) assert.equal(s.window[i]!.seq, s.window[i - 1]!.seq + 1);
    assert.doesNotMatch(s.playlist!, /#EXT-X-DISCONTINUITY/);
    assert.match(s.playlist!, /#EXT-X-TARGETDURATION:4\n/);
  });
});

describe('fast_cache audio window', () => {
  const audio = (t: number): MediaFrame => new MediaFrame('audio', 'AAC', t, t, false, false, Buffer.alloc(4), null);
  test('keeps the last N seconds of audio media frames only', () => {
    const c = new AudioFastCache(2);
    c.push(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
    c.push(new MediaFrame('video', 'H264', 0, 0, true, false, nal(true), null));
    assert.equal(c.size, 0);
    for (let t = 0; t <= 10_000; t += 23) c.push(audio(t));
    const snap = c.snapshot();
    assert.ok(snap.length > 80 && snap.length <= 88, String(snap.length));
    assert.ok(snap[0]!.dts >= 10_000 - 2000 - 23);
    assert.equal(snap[snap.length - 1]!.dts, 9982);
    for (let i = 1; i < snap.length; i++) assert.ok(snap[i]!.dts > snap[i - 1]!.dts);
  });

  test('off keeps nothing; a timestamp reset starts over; bounded frame count', () => {
    const off = new AudioFastCache(0);
    off.push(audio(1));
    assert.equal(off.size, 0);
    const c = new AudioFastCache(5);
    for (let t = 0; t < 3000; t += 23) c.push(audio(t));
    c.push(audio(10));
    assert.equal(c.size, 1);
    const big = new AudioFastCache(1e9);
    for (let i = 0; i < FAST_CACHE_MAX_FRAMES * 2; i++) big.push(audio(i));
    assert.equal(big.size, FAST_CACHE_MAX_FRAMES);
    assert.equal(big.snapshot()[0]!.dts, FAST_CACHE_MAX_FRAMES);
  });
});

describe('hls_dts_directly off: AAC DTS from the sample count', () => {
  test('millisecond-rounded timestamps become exact 1024-sample steps; resync on drift or going back', () => {
    const e = new AacDtsEstimator(44100);
    const step = (1024 * 1000) / 44100;
    const out: number[] = [];
    for (let i = 0; i < 100; i++) out.push(e.next(1000 + Math.round(i * step)));
    for (let i = 0; i < 100; i++) assert.ok(Math.abs(out[i]! - (1000 + i * step)) < 1e-9, `frame ${i}: ${out[i]}`);
    // A gap (lost audio) larger than the sync window: back to the real timestamp.
    assert.equal(e.next(5000), 5000);
    assert.ok(Math.abs(e.next(5023) - (5000 + step)) < 1e-9);
    // Timestamps going back (republish): start over.
    assert.equal(e.next(10), 10);
    const off = new AacDtsEstimator(0);
    assert.equal(off.next(123), 123, 'unknown rate: the timestamp as it is');
  });

  test('a stream with hls_dts_directly off still cuts and writes segments', async () => {
    const { s, store } = setup('hls_fragment 1; hls_window 100; hls_dts_directly off;');
    feed(s, 3.1, 1);
    await s.io.idle();
    assert.equal(s.window.length, 3);
    for (const w of s.window) assert.equal(store.files.get(w.abs)![0], 0x47);
  });
});
