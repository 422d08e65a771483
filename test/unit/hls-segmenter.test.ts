import { test, describe, mock } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { buildVhostConfig } from '../../src/config/vhost-config.js';
import { parseConfigTree } from '../../src/config/parser.js';
import type { HlsConfig } from '../../src/config/vhost-config.js';
import { silentLogger } from '../../src/log/logger.js';
import { HlsTsStream } from '../../src/outputs/hls/hls-ts-stream.js';
import type { FileStore } from '../../src/outputs/segment/file-store.js';
import type { HlsSegmentNotice } from '../../src/outputs/hls/hls-segment-notice.js';
import { shouldCut } from '../../src/outputs/segment/segment-rules.js';
import { applyTemplate } from '../../src/outputs/segment/path-template.js';
import { jailedPath } from '../../src/core/path-jail.js';
import { TsDemuxer } from '../../src/format/mpegts-demuxer.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]);

class MemoryStore implements FileStore {
  readonly files = new Map<string, Buffer>();
  failNext = 0;
  async write(path: string, chunks: readonly Buffer[] | string): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('ENOSPC: no space left on device');
    }
    this.files.set(path, typeof chunks === 'string' ? Buffer.from(chunks) : Buffer.concat(chunks as Buffer[]));
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
}

function hlsConfig(body: string): HlsConfig {
  const root = parseConfigTree(`vhost v { hls { enabled on; hls_path /tmp/hlsroot; ${body} } }`, 'test.conf');
  const vhost = root.children.find((d) => d.name === 'vhost');
  return buildVhostConfig('v', vhost, {}, 60000).hls;
}

function setup(body: string): { s: HlsTsStream; store: MemoryStore; notices: HlsSegmentNotice[] } {
  const store = new MemoryStore();
  const notices: HlsSegmentNotice[] = [];
  const s = new HlsTsStream('__defaultVhost__', 'live', 'livestream', hlsConfig(body), {
    store,
    log: silentLogger(),
    notify: (n) => notices.push(n),
    publisher: () => ({ param: '?token=1', tcUrl: 'rtmp://127.0.0.1/live' }),
  });
  return { s, store, notices };
}

function headers(s: HlsTsStream): void {
  s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
  s.onFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
}

const nal = (key: boolean): Buffer => Buffer.from([0, 0, 0, 3, key ? 0x65 : 0x41, 1, 2]);

/** Feeds `seconds` of 25 fps video (keyframe every `gop` s) with AAC audio, starting at `from` ms. */
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

describe('segment rules (SRS §5.9)', () => {
  const r = { fragment: 5, tdRatio: 1, aofRatio: 2.1, waitKeyframe: true };
  test('video: at the first keyframe after fragment × td_ratio', () => {
    assert.equal(shouldCut(r, 4000, 'video', true, false), false);
    assert.equal(shouldCut(r, 5000, 'video', false, false), false);
    assert.equal(shouldCut(r, 6000, 'video', true, false), true);
    assert.equal(shouldCut({ ...r, waitKeyframe: false }, 5000, 'video', false, false), true);
    assert.equal(shouldCut({ ...r, tdRatio: 1.5 }, 6000, 'video', true, false), false);
  });
  test('audio: forced at aof_ratio × fragment; pure audio at fragment', () => {
    assert.equal(shouldCut(r, 10400, 'audio', false, false), false);
    assert.equal(shouldCut(r, 10500, 'audio', false, false), true);
    assert.equal(shouldCut(r, 5000, 'audio', false, true), true);
    assert.equal(shouldCut(r, 150, 'audio', false, true), false);
  });
});

describe('HlsTsStream', () => {
  test('GOP 2 s + fragment 5 s gives 6 s segments; playlist and segments written; on_hls fired', async () => {
    const { s, store, notices } = setup('hls_fragment 5; hls_window 60;');
    s.onPublish();
    headers(s);
    feed(s, 20, 2);
    await s.io.idle();
    const m3u8 = store.files.get(resolve('/tmp/hlsroot/live/livestream.m3u8'))!.toString();
    assert.match(m3u8, /#EXT-X-TARGETDURATION:6\n/);
    assert.deepEqual([...m3u8.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => m[1]), ['6.000', '6.000', '6.000']);
    assert.match(m3u8, /\nlivestream-0\.ts\n/);
    const seg = store.files.get(resolve('/tmp/hlsroot/live/livestream-1.ts'))!;
    assert.equal(seg.length % 188, 0);
    const d = new TsDemuxer();
    const pes = [...d.push(seg), ...d.flush()];
    const firstVideo = pes.filter((p) => p.streamId === 0xe0).sort((x, y) => x.dts - y.dts)[0]!;
    assert.ok(firstVideo.randomAccess, 'segment starts with a keyframe');
    assert.equal(firstVideo.dts, 6000 * 90);
    assert.ok(pes.every((p) => p.dts >= 6000 * 90 && p.dts < 12000 * 90));
    assert.equal(notices.length, 3);
    assert.deepEqual(
      { ...notices[1], cwd: '' },
      {
        vhost: '__defaultVhost__',
        app: 'live',
        stream: 'livestream',
        param: '?token=1',
        tcUrl: 'rtmp://127.0.0.1/live',
        streamUrl: '/live/livestream',
        file: '/tmp/hlsroot/live/livestream-1.ts',
        cwd: '',
        url: 'live/livestream-1.ts',
        m3u8: '/tmp/hlsroot/live/livestream.m3u8',
        m3u8Url: 'live/livestream.m3u8',
        duration: 6,
        seq: 1,
      },
    );
  });

  test('GOP 10 s + fragment 5 s gives 10 s segments; wait_keyframe off cuts at 5 s', async () => {
    const a = setup('hls_fragment 5;');
    a.s.onPublish();
    headers(a.s);
    feed(a.s, 31, 10);
    await a.s.io.idle();
    assert.deepEqual(a.s.window.map((x) => x.duration), [10, 10, 10]);
    const b = setup('hls_fragment 5; hls_wait_keyframe off;');
    b.s.onPublish();
    headers(b.s);
    feed(b.s, 21, 10);
    await b.s.io.idle();
    assert.deepEqual(b.s.window.map((x) => x.duration), [5, 5, 5, 5]);
  });

  test('sliding window and cleanup: total just over hls_window, old files deleted', async () => {
    const { s, store } = setup('hls_fragment 2; hls_window 6;');
    s.onPublish();
    headers(s);
    feed(s, 30, 2);
    await s.io.idle();
    const seqs = s.window.map((x) => x.seq);
    assert.deepEqual(seqs, [10, 11, 12, 13], 'keeps until the sum first exceeds 6 s');
    const m3u8 = store.files.get(s.m3u8Abs)!.toString();
    assert.match(m3u8, /#EXT-X-MEDIA-SEQUENCE:10\n/);
    // A slid-out segment stays its duration plus the playlist's (RFC 8216 §6.2.2: 2 + 8 s of media listed
    // since): 9, last listed by the previous playlist, is still there for a player holding it; 0-4 are gone.
    const onDisk = (): number[] =>
      [...store.files.keys()]
        .filter((k) => k.endsWith('.ts'))
        .map((k) => Number(/-(\d+)\.ts$/.exec(k)![1]))
        .sort((x, y) => x - y);
    assert.deepEqual(onDisk(), [5, 6, 7, 8, 9, 10, 11, 12, 13]);
    // hls_dispose 0: once the last playlist has played out after the unpublish, only the window stays.
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      s.onUnpublish();
      await s.io.idle();
      assert.deepEqual(onDisk(), [6, 7, 8, 9, 10, 11, 12, 13, 14], 'the open segment was written at unpublish (and 5 had its time)');
      mock.timers.tick(20_000);
      await s.io.idle();
      assert.deepEqual(onDisk(), s.window.map((w) => w.seq));
    } finally {
      mock.timers.reset();
    }
  });

  test('hls_cleanup off keeps old segments on disk', async () => {
    const { s, store } = setup('hls_fragment 2; hls_window 4; hls_cleanup off;');
    s.onPublish();
    headers(s);
    feed(s, 20, 2);
    await s.io.idle();
    assert.equal([...store.files.keys()].filter((k) => k.endsWith('.ts')).length, 9);
  });

  test('republish: discontinuity, sequence numbers continue; unpublish flushes; dispose removes all', async () => {
    const { s, store } = setup('hls_fragment 2; hls_window 60; hls_dispose 1;');
    s.onPublish();
    headers(s);
    const end = feed(s, 7, 2);
    s.onUnpublish();
    await s.io.idle();
    assert.deepEqual(s.window.map((x) => x.seq), [0, 1, 2, 3]);
    s.onPublish();
    headers(s);
    feed(s, 5, 2, end + 500);
    await s.io.idle();
    const m3u8 = store.files.get(s.m3u8Abs)!.toString();
    const lines = m3u8.split('\n');
    const disc = lines.indexOf('#EXT-X-DISCONTINUITY');
    assert.ok(disc > 0);
    assert.match(lines[disc + 1]!, /^#EXT-X-PROGRAM-DATE-TIME:/);
    assert.equal(lines[disc + 3], 'livestream-4.ts', 'the first segment after republish is marked');
    assert.equal(m3u8.match(/DISCONTINUITY/g)!.length, 1);
    s.onUnpublish();
    await new Promise((r) => setTimeout(r, 1300));
    await s.io.idle();
    assert.equal(store.files.size, 0, 'all files disposed');
    assert.equal(s.playlist, null);
  });

  test('audio-only streams are cut at hls_fragment; segments shorter than 100 ms are dropped', async () => {
    const { s } = setup('hls_fragment 2;');
    s.onPublish();
    s.onFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
    for (let t = 0; t < 6050; t += 23) s.onFrame(new MediaFrame('audio', 'AAC', t, t, false, false, Buffer.alloc(10), null));
    s.onUnpublish();
    await s.io.idle();
    assert.equal(s.window.length, 3);
    for (const seg of s.window) assert.ok(Math.abs(seg.duration - 2) < 0.05, String(seg.duration));
  });

  test('a write error is logged and the stream goes on', async () => {
    const { s, store } = setup('hls_fragment 2;');
    store.failNext = 1;
    s.onPublish();
    headers(s);
    feed(s, 9, 2);
    await s.io.idle();
    assert.ok(store.files.has(s.m3u8Abs));
    assert.ok(s.segmentsWritten >= 2);
  });

  test('paths: templates and the jail', () => {
    assert.equal(applyTemplate('[app]/[stream]-[seq].ts', { vhost: 'v', app: 'live', stream: 's', seq: 3 }), 'live/s-3.ts');
    assert.equal(applyTemplate('[vhost]/[app]/[stream]-[duration].ts', { vhost: 'v', app: 'a', stream: 's', durationMs: 5960.2 }), 'v/a/s-5960.ts');
    assert.equal(jailedPath('/srv/html', 'live/s.m3u8'), resolve('/srv/html/live/s.m3u8'));
    assert.equal(jailedPath('/srv/html', '../../etc/passwd'), null);
    assert.equal(jailedPath('/srv/html', 'live\\..\\x'), null);
    assert.throws(() => setupWithStream('../../etc'));
  });
});

function setupWithStream(app: string): HlsTsStream {
  return new HlsTsStream('v', app, 'x', hlsConfig(''), { store: new MemoryStore(), log: silentLogger(), notify: () => {}, publisher: () => ({ param: '', tcUrl: '' }) });
}
