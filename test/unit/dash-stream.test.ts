import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { buildVhostConfig } from '../../src/config/vhost-config.js';
import { parseConfigTree } from '../../src/config/parser.js';
import { silentLogger } from '../../src/log/logger.js';
import { DashStream } from '../../src/outputs/dash/dash-stream.js';
import type { FileStore } from '../../src/outputs/segment/file-store.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]);

class MemoryStore implements FileStore {
  readonly files = new Map<string, Buffer>();
  async write(path: string, chunks: readonly Buffer[] | string): Promise<void> {
    this.files.set(path, typeof chunks === 'string' ? Buffer.from(chunks) : Buffer.concat(chunks as Buffer[]));
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
}

describe('DashStream', () => {
  test('SRS layout, keyframe-aligned segments, window and cleanup, MPD timeline', async () => {
    const root = parseConfigTree('vhost v { dash { enabled on; dash_fragment 2; dash_window_size 3; dash_path /tmp/dashroot; } }', 't.conf');
    const cfg = buildVhostConfig('v', root.children[0], {}, 60000).dash;
    const store = new MemoryStore();
    const d = new DashStream('v', 'live', 'livestream', cfg, store, silentLogger());
    d.onPublish();
    d.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
    d.onFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
    let a = 0;
    for (let t = 0; t < 12000; t += 40) {
      const key = t % 1000 === 0;
      d.onFrame(new MediaFrame('video', 'H264', t, t, key, false, Buffer.from([0, 0, 0, 2, key ? 0x65 : 0x41, 0]), null));
      for (; a < t + 40; a += 23) d.onFrame(new MediaFrame('audio', 'AAC', a, a, false, false, Buffer.alloc(8), null));
    }
    await d.io.idle();
    const dir = resolve('/tmp/dashroot/live/livestream');
    assert.ok(store.files.has(`${dir}/video-init.mp4`));
    assert.ok(store.files.has(`${dir}/audio-init.mp4`));
    const onDisk = (): string[] => [...store.files.keys()].filter((k) => k.endsWith('.m4s')).map((k) => k.slice(dir.length + 1)).sort();
    // The window is 3-5; 1 and 2 slid out but stay their duration plus the MPD's (2 + 6 s of media listed since).
    assert.deepEqual(onDisk(), ['audio-1.m4s', 'audio-2.m4s', 'audio-3.m4s', 'audio-4.m4s', 'audio-5.m4s', 'video-1.m4s', 'video-2.m4s', 'video-3.m4s', 'video-4.m4s', 'video-5.m4s']);
    const mpd = store.files.get(resolve('/tmp/dashroot/live/livestream.mpd'))!.toString();
    assert.match(mpd, /<BaseURL>livestream\/<\/BaseURL>/);
    assert.match(mpd, /startNumber="3"/);
    assert.match(mpd, /<S t="360000" d="180000"\/>/);
    assert.equal(mpd.match(/<S /g)!.length, 6);
    // 10 s more (5 segments): 1 and 2 have had their 8 s and go; 3 has a few ms left, so it stays.
    for (let t = 12000; t < 21040; t += 40) {
      const key = t % 1000 === 0;
      d.onFrame(new MediaFrame('video', 'H264', t, t, key, false, Buffer.from([0, 0, 0, 2, key ? 0x65 : 0x41, 0]), null));
      for (; a < t + 40; a += 23) d.onFrame(new MediaFrame('audio', 'AAC', a, a, false, false, Buffer.alloc(8), null));
    }
    await d.io.idle();
    const from3 = ['3', '4', '5', '6', '7', '8', '9', '10'];
    assert.deepEqual(onDisk(), [...from3.map((n) => `audio-${n}.m4s`), ...from3.map((n) => `video-${n}.m4s`)].sort());
    await d.dispose('test');
    assert.equal(store.files.size, 0);
  });
});
