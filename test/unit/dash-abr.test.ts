/**
 * The DASH half of the ABR ladder: the ladder MPD writer (one video
 * AdaptationSet with a Representation per rung, one audio set, a
 * SegmentTemplate per Representation), and the DASH writer's grid cutting
 * (rungs that start at different times number the same media alike, with
 * the same SegmentTimeline times, on the source's timeline).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { buildVhostConfig } from '../../src/config/vhost-config.js';
import { parseConfigTree } from '../../src/config/parser.js';
import { writeLadderMpd, type MpdLadderRepresentation } from '../../src/format/mpd.js';
import { silentLogger } from '../../src/log/logger.js';
import { DashStream } from '../../src/outputs/dash/dash-stream.js';
import type { FileStore } from '../../src/outputs/segment/file-store.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]);

const TIMING = {
  availabilityStartTime: new Date(Date.UTC(2024, 0, 1)),
  publishTime: new Date(Date.UTC(2024, 0, 1, 0, 1)),
  minimumUpdatePeriod: 2,
  timeShiftBufferDepth: 8,
  minBufferTime: 2,
  maxSegmentDuration: 2,
  suggestedPresentationDelay: 4,
};

function videoRep(stream: string, w: number, h: number, bw: number, fps?: number): MpdLadderRepresentation {
  return {
    id: `${stream}-video`,
    kind: 'video',
    codecs: 'avc1.42c01e',
    bandwidth: bw,
    width: w,
    height: h,
    timescale: 90000,
    startNumber: 3,
    timeline: [{ t: 360000, d: 180000 }, { t: 540000, d: 180000 }],
    initialization: `${stream}/video-init.mp4`,
    media: `${stream}/video-$Number$.m4s`,
    frameRate: fps,
  };
}

test('writeLadderMpd: one video AdaptationSet with a Representation per rung, one audio set, a template per Representation', () => {
  const text = writeLadderMpd({
    ...TIMING,
    video: [videoRep('cam', 640, 360, 1e6, 25), videoRep('cam_180p', 320, 180, 2e5, 29.97), videoRep('cam_90p', 160, 90, 8e4)],
    audio: [{ id: 'cam-audio', kind: 'audio', codecs: 'mp4a.40.2', bandwidth: 64000, sampleRate: 44100, channels: 2, timescale: 44100, startNumber: 3, timeline: [{ t: 176400, d: 88200 }], initialization: 'cam/audio-init.mp4', media: 'cam/audio-$Number$.m4s' }],
  });
  assert.match(text, /type="dynamic"/);
  assert.match(text, /availabilityStartTime="2024-01-01T00:00:00.000Z"/);
  assert.doesNotMatch(text, /<BaseURL>/, 'each Representation names its own directory');
  assert.equal((text.match(/<AdaptationSet /g) ?? []).length, 2);
  assert.match(text, /<AdaptationSet mimeType="video\/mp4" contentType="video" segmentAlignment="true" startWithSAP="1" maxWidth="640" maxHeight="360">/);
  assert.match(text, /<Representation id="cam-video" codecs="avc1.42c01e" bandwidth="1000000" width="640" height="360" frameRate="25">/);
  assert.match(text, /<Representation id="cam_180p-video" codecs="avc1.42c01e" bandwidth="200000" width="320" height="180" frameRate="29970\/1000">/);
  assert.match(text, /<Representation id="cam_90p-video" codecs="avc1.42c01e" bandwidth="80000" width="160" height="90">/);
  assert.match(text, /<SegmentTemplate timescale="90000" initialization="cam_180p\/video-init.mp4" media="cam_180p\/video-\$Number\$.m4s" startNumber="3">/);
  assert.equal((text.match(/<S t="540000" d="180000"\/>/g) ?? []).length, 3);
  // Audio: channel configuration before the template (the schema's order).
  assert.match(text, /<Representation id="cam-audio" codecs="mp4a.40.2" bandwidth="64000" audioSamplingRate="44100">\n {8}<AudioChannelConfiguration [^>]+ value="2"\/>\n {8}<SegmentTemplate timescale="44100" initialization="cam\/audio-init.mp4"/);
  assert.ok(text.trim().endsWith('</MPD>'));
});

test('writeLadderMpd: no audio set when no rung has audio', () => {
  const text = writeLadderMpd({ ...TIMING, video: [videoRep('cam', 640, 360, 1e6)], audio: [] });
  assert.equal((text.match(/<AdaptationSet /g) ?? []).length, 1);
});

class MemoryStore implements FileStore {
  readonly files = new Map<string, Buffer>();
  async write(path: string, chunks: readonly Buffer[] | string): Promise<void> {
    this.files.set(path, typeof chunks === 'string' ? Buffer.from(chunks) : Buffer.concat(chunks as Buffer[]));
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
}

/** A rung whose frames carry dts = source time − base (its jitter correction). */
function rung(baseMs: number, aligned = true): DashStream {
  const root = parseConfigTree('vhost v { dash { enabled on; dash_fragment 2; dash_window_size 20; dash_path /tmp/dashabr; } }', 't.conf');
  const cfg = buildVhostConfig('v', root.children[0], {}, 60000).dash;
  const d = new DashStream('v', 'live', `cam${baseMs}`, cfg, new MemoryStore(), silentLogger());
  if (aligned) d.align = { offsetMs: () => baseMs };
  d.onPublish();
  d.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
  d.onFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
  return d;
}

function feed(d: DashStream, baseMs: number, fromMs: number, toMs: number, keyEveryMs: number): void {
  let a = fromMs;
  for (let t = fromMs; t < toMs; t += 40) {
    const key = t % keyEveryMs === 0;
    d.onFrame(new MediaFrame('video', 'H264', t - baseMs, t - baseMs, key, false, Buffer.from([0, 0, 0, 2, key ? 0x65 : 0x41, 1]), null));
    for (; a < t + 40; a += 23) d.onFrame(new MediaFrame('audio', 'AAC', a - baseMs, a - baseMs, false, false, Buffer.alloc(8), null));
  }
}

/** `number:start(ms)+duration(ms)` of a rung's video SegmentTimeline. */
function timeline(d: DashStream): string[] {
  const t = d.ladderTrack('video', 'v', 'x');
  if (!t) return [];
  return t.rep.timeline.map((e, i) => `${t.rep.startNumber + i}:${(e.t / 90).toFixed(0)}+${(e.d / 90).toFixed(0)}`);
}

test('DASH ABR grid: rungs that start at different times cut on the same slots, number them alike, on the source\'s timeline', async () => {
  // Source keyframes every 1 s; dash_fragment 2.
  const early = rung(0);
  const late = rung(5000);
  feed(early, 0, 0, 20_000, 1000);
  // Joins at 5 s of the source's timeline (a keyframe in the middle of slot 2): its first segment waits for slot 3.
  feed(late, 5000, 5000, 20_000, 1000);
  await early.io.idle();
  await late.io.idle();
  assert.deepEqual(timeline(early).slice(0, 3), ['1:0+2000', '2:2000+2000', '3:4000+2000']);
  assert.deepEqual(timeline(late), timeline(early).slice(3, timeline(late).length + 3));
  assert.equal(timeline(late)[0], '4:6000+2000');
  const t = early.ladderTrack('video', 'cam0-video', 'cam0')!;
  assert.equal(t.rep.media, 'cam0/video-$Number$.m4s');
  assert.equal(t.rep.initialization, 'cam0/video-init.mp4');
  assert.equal(t.rep.frameRate, 25);
  assert.ok(early.ladderTrack('audio', 'a', '')!.rep.media === 'audio-$Number$.m4s');
});

test('DASH ABR grid: a restarted rung (its FFmpeg replays the GOP cache) lists no slot twice', async () => {
  const d = rung(0);
  feed(d, 0, 0, 9000, 1000);
  d.onUnpublish();
  d.onPublish();
  d.onFrame(new MediaFrame('video', 'H264', 8000, 8000, false, true, AVCC, null));
  d.onFrame(new MediaFrame('audio', 'AAC', 8000, 8000, false, true, ASC, null));
  // The new FFmpeg starts from the cached GOP at 8 s (slot 4, already cut at unpublish).
  feed(d, 0, 8000, 16_000, 1000);
  await d.io.idle();
  // A republish starts a new timeline (as for every DASH stream); slot 4 is not listed again, slot 5 keeps its number.
  assert.deepEqual(timeline(d).map((s) => s.split('+')[0]), ['6:10000', '7:12000']);
});

test('DASH without a ladder: cut by dash_fragment at keyframes, numbered from 1, as before', async () => {
  const d = rung(5000, false);
  feed(d, 5000, 5000, 15_000, 1000);
  await d.io.idle();
  assert.deepEqual(timeline(d).slice(0, 2), ['1:0+2000', '2:2000+2000']);
});
