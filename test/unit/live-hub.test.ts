import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { TimeJitter } from '../../src/live/time-jitter.js';
import { GopCache } from '../../src/live/gop-cache.js';
import { FrameQueue } from '../../src/live/frame-queue.js';
import { Consumer, type FrameSink } from '../../src/live/consumer.js';
import { LiveSource } from '../../src/live/live-source.js';
import { SourceRegistry } from '../../src/live/source-registry.js';
import { matchMount } from '../../src/servers/http-live/http-remux-mount.js';

const video = (dts: number, key = false): MediaFrame => new MediaFrame('video', 'H264', dts, dts, key, false, Buffer.alloc(10), null);
const audio = (dts: number): MediaFrame => new MediaFrame('audio', 'AAC', dts, dts, false, false, Buffer.alloc(4), null);
const vheader = (dts = 0): MediaFrame => new MediaFrame('video', 'H264', dts, dts, true, true, Buffer.alloc(4), null);

class RecordingSink implements FrameSink {
  batches: MediaFrame[][] = [];
  full = false;
  ended = '';
  private pending: MediaFrame[] = [];
  encode(frame: MediaFrame): Buffer {
    this.pending.push(frame);
    return frame.payload;
  }
  write(): boolean {
    this.batches.push(this.pending);
    this.pending = [];
    return !this.full;
  }
  end(reason: string): void {
    this.ended = reason;
  }
  get frames(): MediaFrame[] {
    return this.batches.flat();
  }
}

test('time_jitter full: starts at 0, replaces jumps by 10 ms, never below 0', () => {
  const j = new TimeJitter('full');
  assert.deepEqual([1000, 1040, 1080, 90000, 90040, 500].map((t) => j.correct(t, false)), [0, 40, 80, 90, 130, 140]);
  assert.equal(j.correct(5000, true), 0, 'metadata at 0');
});

test('time_jitter zero rebases each publish; off leaves timestamps alone', () => {
  const z = new TimeJitter('zero');
  assert.deepEqual([500, 540].map((t) => z.correct(t, false)), [0, 40]);
  z.onPublish();
  assert.equal(z.correct(9000, false), 0);
  const off = new TimeJitter('off');
  assert.equal(off.correct(123456, false), 123456);
});

test('GOP cache: starts at a keyframe, restarts at each keyframe, clears for pure audio and max frames', () => {
  const g = new GopCache(true, 0);
  g.push(audio(0));
  g.push(video(0));
  assert.equal(g.size, 0, 'nothing before the first keyframe');
  g.push(video(40, true));
  g.push(audio(50));
  g.push(video(80));
  assert.equal(g.size, 3);
  g.push(video(120, true));
  assert.equal(g.size, 1);
  for (let i = 0; i < 116; i++) g.push(audio(200 + i));
  assert.equal(g.size, 0, 'more than 115 audio frames since the last video: pure audio');
  const small = new GopCache(true, 3);
  small.push(video(0, true));
  for (let i = 1; i < 4; i++) small.push(video(i * 40));
  assert.equal(small.size, 0, 'over gop_cache_max_frames: cleared');
  const off = new GopCache(false, 0);
  off.push(video(0, true));
  assert.equal(off.size, 0);
});

test('FrameQueue keeps order across growth and wrap', () => {
  const q = new FrameQueue(2);
  const frames = Array.from({ length: 50 }, (_, i) => audio(i));
  for (let i = 0; i < 30; i++) q.push(frames[i]!);
  for (let i = 0; i < 20; i++) assert.equal(q.shift(), frames[i]);
  for (let i = 30; i < 50; i++) q.push(frames[i]!);
  assert.equal(q.length, 30);
  for (let i = 20; i < 50; i++) assert.equal(q.shift(), frames[i]);
  assert.equal(q.shift(), undefined);
});

test('merge-write consumer writes before the oldest frame would wait past mw_latency, as one batch', () => {
  const sink = new RecordingSink();
  const c = new Consumer('c', sink, { queueLengthMs: 10_000, mwLatencyMs: 100 });
  let flushes = 0;
  for (let t = 0; t <= 220; t += 20) {
    if (c.enqueue(video(t, t === 0))) {
      c.flush();
      flushes++;
    }
  }
  assert.equal(flushes, 2);
  // Flushed one frame early, so that no frame waits longer than mw_latency for the next.
  assert.deepEqual(sink.batches.map((b) => b.length), [5, 5]);
  for (const b of sink.batches) assert.ok(b[b.length - 1]!.dts - b[0]!.dts + 20 <= 100);
});

test('a blocked consumer drops media past queue_length and restarts at a keyframe, keeping headers', () => {
  const sink = new RecordingSink();
  const c = new Consumer('c', sink, { queueLengthMs: 1000, mwLatencyMs: 0 });
  sink.full = true;
  c.enqueue(vheader());
  c.enqueue(video(0, true));
  c.flush(); // the socket is now full
  c.enqueue(vheader());
  for (let t = 40; t <= 2000; t += 40) c.enqueue(video(t, t % 1000 === 0));
  assert.ok(c.framesDropped > 0);
  assert.ok(c.queuedFrames < 30, `bounded: ${c.queuedFrames}`);
  sink.full = false;
  c.resume();
  const after = sink.batches.slice(1).flat();
  assert.equal(after[0]!.header, true, 'the header survived the drop');
  const media = after.filter((f) => !f.header);
  assert.equal(media[0]!.keyframe, true, 'media restarts at a keyframe');
});

test('LiveSource: one publisher, late joiners get headers and the GOP, EOF after the republish wait', async () => {
  const source = new LiveSource('v', 'live', 's', { gopCache: true, gopCacheMaxFrames: 0, timeJitter: 'full', republishWaitMs: 50 });
  const pub = { id: 'p1', kick: () => undefined };
  assert.equal(source.publish(pub), true);
  assert.equal(source.publish({ id: 'p2', kick: () => undefined }), false, 'a second publisher is refused');
  source.onFrame(vheader(1000));
  source.onFrame(video(1000, true));
  source.onFrame(audio(1010));
  source.onFrame(video(1040));
  const sink = new RecordingSink();
  const c = new Consumer('c', sink, { queueLengthMs: 10_000, mwLatencyMs: 0 });
  source.addConsumer(c);
  const first = sink.frames;
  assert.equal(first[0]!.header, true);
  assert.equal(first[1]!.keyframe, true);
  assert.deepEqual(first.map((f) => f.dts), [0, 0, 10, 40], 'one corrected timeline');
  source.unpublish(pub);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(sink.ended, 'publisher left');
});

test('SourceRegistry frees sources idle past the timeout', () => {
  let now = 0;
  const reg = new SourceRegistry({ idleTimeoutMs: 100, sweepIntervalMs: 1_000_000, now: () => now });
  const cfg = { gopCache: true, gopCacheMaxFrames: 0, timeJitter: 'full' as const, republishWaitMs: 0 };
  now = 1;
  const a = reg.getOrCreate('v', 'live', 'a', cfg);
  const b = reg.getOrCreate('v', 'live', 'b', cfg);
  b.publish({ id: 'p', kick: () => undefined });
  now = 500;
  assert.equal(reg.sweep(), 1);
  assert.equal(reg.get('v', 'live', 'a'), undefined);
  assert.ok(reg.get('v', 'live', 'b'));
  assert.notEqual(a, reg.getOrCreate('v', 'live', 'a', cfg), 'a new source for a new publish');
  reg.close();
});

test('http_remux mounts match as SRS matches them', () => {
  assert.deepEqual(matchMount('[vhost]/[app]/[stream].flv', '__defaultVhost__', '/live/s.flv'), { app: 'live', stream: 's', ext: '.flv' });
  assert.deepEqual(matchMount('[vhost]/[app]/[stream].flv', 'v.com', '/live/s.flv'), { app: 'live', stream: 's', ext: '.flv' });
  assert.equal(matchMount('[vhost]/[app]/[stream].flv', '__defaultVhost__', '/live/x/s.flv'), null, 'a different number of /');
  assert.equal(matchMount('[vhost]/[app]/[stream].flv', '__defaultVhost__', '/live/s.ts'), null);
  assert.deepEqual(matchMount('/flv/[app]/[stream].flv', '__defaultVhost__', '/flv/live/a.b.flv'), { app: 'live', stream: 'a.b', ext: '.flv' });
});
