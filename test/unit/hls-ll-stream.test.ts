import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { buildVhostConfig, type HlsConfig } from '../../src/config/vhost-config.js';
import { parseConfigTree } from '../../src/config/parser.js';
import { silentLogger } from '../../src/log/logger.js';
import { LlHlsStream } from '../../src/outputs/hls/ll-hls-stream.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]);

function cfg(body: string): HlsConfig {
  const root = parseConfigTree(`vhost v { hls { enabled on; hls_ll on; ${body} } }`, 't.conf');
  return buildVhostConfig('v', root.children[0], {}, 60000).hls;
}

const nal = (key: boolean): Buffer => Buffer.from([0, 0, 0, 3, key ? 0x65 : 0x41, 1, 2]);

function feed(s: LlHlsStream, fromMs: number, toMs: number, gopMs = 1000): void {
  let a = fromMs;
  for (let t = fromMs; t < toMs; t += 40) {
    s.onFrame(new MediaFrame('video', 'H264', t, t, t % gopMs === 0, false, nal(t % gopMs === 0), null));
    for (; a < t + 40; a += 23) s.onFrame(new MediaFrame('audio', 'AAC', a, a, false, false, Buffer.alloc(9), null));
  }
}

describe('LL-HLS stream', () => {
  test('config: hls_ll and hls_part_duration are parsed (Sluice extension)', () => {
    const c = cfg('hls_part_duration 0.3;');
    assert.equal(c.ll, true);
    assert.equal(c.partDuration, 0.3);
    assert.equal(cfg('').partDuration, 0.5);
  });

  test('parts no longer than the part target; segments at keyframes; playlist tags', () => {
    const s = new LlHlsStream('livestream', cfg('hls_fragment 2; hls_part_duration 0.5;'), silentLogger());
    s.onPublish();
    s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
    s.onFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
    feed(s, 0, 7000);
    assert.ok(s.init && s.init.includes(Buffer.from('moov')));
    assert.deepEqual(s.segments.map((x) => x.msn), [0, 1, 2]);
    for (const seg of s.segments) assert.ok(Math.abs(seg.duration - 2) < 0.01, String(seg.duration));
    const parts = [...s.segments.flatMap((x) => x.parts), ...s.cur!.parts];
    assert.ok(parts.length >= 12);
    for (const p of parts) assert.ok(p.duration <= 0.5 && p.duration > 0, `part of ${p.duration} s`);
    // Only the last part of a segment may be short (the segment ends at a keyframe).
    for (const seg of s.segments) for (const p of seg.parts.slice(0, -1)) assert.ok(p.duration >= 0.4, `part of ${p.duration} s`);
    for (const seg of s.segments) assert.equal(seg.parts[0]!.independent, true);
    const pl = s.playlist!;
    assert.match(pl, /#EXT-X-PART-INF:PART-TARGET=0\.50000/);
    assert.match(pl, /#EXT-X-MAP:URI="livestream-init\.mp4"/);
    assert.match(pl, /#EXT-X-PART:DURATION=[\d.]+,URI="livestream-3\.0\.m4s",INDEPENDENT=YES/);
    assert.match(pl, new RegExp(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="livestream-3\\.${s.cur!.parts.length}\\.m4s"\\n$`));
    // A whole segment is its parts back to back (CMAF fragments).
    const seg1 = s.segment(1)!;
    assert.equal(seg1.length, s.segments[1]!.parts.reduce((n, p) => n + p.data.length, 0));
    assert.equal(seg1.toString('latin1', 4, 8), 'moof');
  });

  test('a segment slid out of the playlist is still served for its duration plus the playlist\'s', () => {
    const s = new LlHlsStream('livestream', cfg('hls_fragment 1; hls_window 3;'), silentLogger());
    s.onPublish();
    s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
    s.onFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
    feed(s, 0, 8040);
    const listed = s.segments.map((x) => x.msn);
    assert.deepEqual(listed, [4, 5, 6, 7]);
    assert.doesNotMatch(s.playlist!, /livestream-3\.m4s/);
    // 0 left at the cut of 4, 3 at that of 7, each kept 1 + 4 s (its own duration and the playlist's).
    for (const msn of [0, 1, 2, 3]) assert.equal(s.segmentBody(msn)?.data.toString('latin1', 4, 8), 'moof', `segment ${msn}`);
    feed(s, 8040, 14040);
    assert.equal(s.segmentBody(0), null, 'gone once its time is up');
    assert.ok(s.segmentBody(s.segments[0]!.msn - 1), 'the newest slid out stays');
  });

  test('blocking reload: waits for a future part, times out otherwise', async () => {
    const s = new LlHlsStream('s', cfg('hls_fragment 1; hls_part_duration 0.2;'), silentLogger());
    s.onPublish();
    s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
    feed(s, 0, 1100);
    const msn = s.cur!.msn;
    const next = s.cur!.parts.length;
    assert.equal(s.ready(msn, next), false);
    assert.equal(s.ready(msn - 1), true);
    const waiting = s.waitFor(msn, next, 2000);
    feed(s, 1100, 1400);
    assert.equal(await waiting, true);
    assert.ok(s.part(msn, next));
    assert.equal(await s.waitFor(msn + 5, 0, 50), false, 'times out');
  });

  test('right after a segment is cut, the playlist already hints the new segment\'s first part', () => {
    // A player reloading between the cut and the new segment's first part must still learn what to ask for.
    const s = new LlHlsStream('s', cfg('hls_fragment 1; hls_part_duration 0.25;'), silentLogger());
    s.onPublish();
    s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
    feed(s, 0, 1040); // the keyframe at 1000 ms cuts segment 0 and opens segment 1, with no part yet
    assert.deepEqual(s.segments.map((x) => x.msn), [0]);
    assert.equal(s.cur?.parts.length, 0);
    assert.match(s.playlist!, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="s-1\.0\.m4s"\n$/);
  });

  test('unpublish closes the segment; republish marks a discontinuity', () => {
    const s = new LlHlsStream('s', cfg('hls_fragment 1;'), silentLogger());
    s.onPublish();
    s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
    feed(s, 0, 1500);
    s.onUnpublish();
    assert.equal(s.cur, null);
    assert.ok(!s.playlist!.includes('PRELOAD-HINT'));
    s.onPublish();
    s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
    feed(s, 2000, 3500);
    assert.match(s.playlist!, /#EXT-X-DISCONTINUITY\n/);
    s.dispose();
    assert.equal(s.playlist, null);
  });
});
