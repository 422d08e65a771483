/**
 * The ABR ladder's pieces: which engines make a stream's ladder (from the
 * config), the multivariant playlist writer, the jitter offset that puts a
 * rendition on its source's timeline, and the segmenter's grid cutting (two
 * renditions that started at different times list the same sequence numbers
 * for the same media).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { buildVhostConfig, type VhostConfig } from '../../src/config/vhost-config.js';
import { parseConfigTree } from '../../src/config/parser.js';
import { abrLadderOf } from '../../src/ffmpeg/abr-ladder.js';
import { writeMultivariantPlaylist } from '../../src/format/m3u8-multivariant.js';
import { TimeJitter } from '../../src/live/time-jitter.js';
import { silentLogger } from '../../src/log/logger.js';
import { HlsTsStream } from '../../src/outputs/hls/hls-ts-stream.js';
import type { FileStore } from '../../src/outputs/segment/file-store.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));

function vhost(body: string): VhostConfig {
  const root = parseConfigTree(`vhost v { ${body} }`, 'test.conf');
  return buildVhostConfig('v', root.children.find((d) => d.name === 'vhost'), {}, 60000);
}

const ENGINES = `
  engine hd { enabled on; vcodec libx264; output rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine]; }
  engine sd { enabled on; vcodec libx264; output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]; }
  engine off { enabled off; vcodec libx264; output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]; }
  engine audio { enabled on; vcodec vn; acodec aac; output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]; }
  engine away { enabled on; vcodec libx264; output rtmp://127.0.0.1:[port]/other/[stream]_[engine]; }`;

describe('abrLadderOf', () => {
  test('the enabled video engines that publish to the same app, in order; the source unless `source off`', () => {
    const v = vhost(`transcode live { enabled on; abr { enabled on; } ${ENGINES} }`);
    const l = abrLadderOf(v, 'v', 'live', 'cam');
    assert.ok(l);
    assert.equal(l.includeSource, true);
    assert.deepEqual(l.renditions.map((r) => `${r.vhost} ${r.app}/${r.stream}`), ['v live/cam_hd', '127.0.0.1 live/cam_sd'], 'the vhost as the URL names it (the HLS wing resolves it)');
    const noSource = vhost(`transcode live/cam { enabled on; abr { enabled on; source off; } ${ENGINES} }`);
    assert.equal(abrLadderOf(noSource, 'v', 'live', 'cam')?.includeSource, false);
    assert.equal(abrLadderOf(noSource, 'v', 'live', 'other'), null, 'another stream of the app is not in scope');
  });

  test('no ladder without abr on, or with the transcode block off', () => {
    assert.equal(abrLadderOf(vhost(`transcode live { enabled on; ${ENGINES} }`), 'v', 'live', 'cam'), null);
    assert.equal(abrLadderOf(vhost(`transcode live { enabled off; abr { enabled on; } ${ENGINES} }`), 'v', 'live', 'cam'), null);
  });
});

test('writeMultivariantPlaylist: one STREAM-INF per variant, the attributes it knows', () => {
  const text = writeMultivariantPlaylist([
    { uri: 'cam.m3u8', bandwidth: 1_200_000.4, averageBandwidth: 1_000_000, width: 640, height: 360, codecs: ['avc1.64001e', 'mp4a.40.2'], frameRate: 25 },
    { uri: 'cam_sd.m3u8?hls_ctx=x', bandwidth: 300_000, codecs: [] },
  ]);
  assert.equal(
    text,
    '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n' +
      '#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=25.000\ncam.m3u8\n' +
      '#EXT-X-STREAM-INF:BANDWIDTH=300000\ncam_sd.m3u8?hls_ctx=x\n',
  );
});

test('TimeJitter.offsetMs: the last frame\'s original minus corrected timestamp', () => {
  const full = new TimeJitter('full');
  assert.equal(full.offsetMs, 0);
  full.correct(37_000, false);
  full.correct(37_040, false);
  assert.equal(full.offsetMs, 37_000);
  // A jump (an encoder restart with -copyts) is replaced by 10 ms: the offset follows the original.
  full.correct(52_000, false);
  assert.equal(full.offsetMs, 52_000 - 50);
  const zero = new TimeJitter('zero');
  zero.correct(5000, false);
  assert.equal(zero.offsetMs, 5000);
  assert.equal(new TimeJitter('off').offsetMs, 0);
});

class MemoryStore implements FileStore {
  async write(): Promise<void> {}
  async remove(): Promise<void> {}
}

/** A rendition whose frames carry dts = source time − base (its jitter correction), fed from `fromMs` of the source's timeline. */
function rendition(baseMs: number): HlsTsStream {
  const root = parseConfigTree('vhost v { hls { enabled on; hls_path /tmp/abr; hls_fragment 2; hls_td_ratio 1.5; } }', 'test.conf');
  const cfg = buildVhostConfig('v', root.children.find((d) => d.name === 'vhost'), {}, 60000).hls;
  const s = new HlsTsStream('v', 'live', `cam${baseMs}`, cfg, { store: new MemoryStore(), log: silentLogger(), notify: () => {}, publisher: () => ({ param: '', tcUrl: '' }) });
  s.align = { offsetMs: () => baseMs, epochMs: () => 1_000_000 };
  s.onPublish();
  s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
  return s;
}

function feed(s: HlsTsStream, baseMs: number, fromMs: number, toMs: number, keyEveryMs: number): void {
  for (let t = fromMs; t < toMs; t += 40) {
    const key = t % keyEveryMs === 0;
    s.onFrame(new MediaFrame('video', 'H264', t - baseMs, t - baseMs, key, false, Buffer.from([0, 0, 0, 2, key ? 0x65 : 0x41, 1]), null));
  }
}

test('ABR grid: renditions that start at different times cut on the same slots and number them alike', async () => {
  // Source keyframes every 1 s; hls_fragment 2 (td_ratio ignored on the grid).
  const early = rendition(0);
  const late = rendition(5000);
  feed(early, 0, 0, 20_000, 1000);
  // Joins at 5 s of the source's timeline (a keyframe in the middle of slot 2): its first segment waits for slot 3.
  feed(late, 5000, 5000, 20_000, 1000);
  await early.io.idle();
  await late.io.idle();
  const list = (s: HlsTsStream): string[] => s.window.map((w) => `${w.seq}:${w.duration}@${w.programDateTime}`);
  assert.deepEqual(list(early).slice(0, 3), ['0:2@1000000', '1:2@1002000', '2:2@1004000']);
  assert.deepEqual(list(late), list(early).slice(3));
  assert.equal(early.window.every((w) => w.videoFrames === 50), true, 'FRAME-RATE counts the video frames');
});

test('ABR grid: a restarted rendition (its FFmpeg replays the GOP cache) lists no slot twice', async () => {
  const r = rendition(0);
  feed(r, 0, 0, 9000, 1000);
  r.onUnpublish();
  r.onPublish();
  r.onFrame(new MediaFrame('video', 'H264', 8000, 8000, false, true, AVCC, null));
  // The new FFmpeg starts from the cached GOP at 8 s (slot 4, already cut at unpublish).
  feed(r, 0, 8000, 16_000, 1000);
  await r.io.idle();
  const dates = r.window.map((w) => w.programDateTime - 1_000_000);
  assert.deepEqual(dates, [0, 2000, 4000, 6000, 8000, 10_000, 12_000]);
  assert.deepEqual(r.window.map((w) => w.seq), [0, 1, 2, 3, 4, 5, 6]);
});
