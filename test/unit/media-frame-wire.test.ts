/**
 * The per-format caches on a frame: an egress registers a WireFormat and
 * gets its own slot; forms holding the frame's time are dropped on retime,
 * forms with a clock of their own (RTP from a publisher) are kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { WireFormat, wireFormatCount } from '../../src/codec/wire-format.js';

const frame = (): MediaFrame => new MediaFrame('video', 'H264', 100, 140, true, false, Buffer.from([0, 0, 0, 1, 0x65]), null);

test('each registered form has its own slot; a frame starts with none', () => {
  const a = new WireFormat<Buffer>('test-a');
  const b = new WireFormat<{ n: number }>('test-b');
  assert.notEqual(a.id, b.id);
  const f = frame();
  assert.equal(f.wire(a), undefined);
  const bytes = Buffer.from('x');
  assert.equal(f.setWire(a, bytes), bytes);
  assert.equal(f.wire(a), bytes);
  assert.equal(f.wire(b), undefined);
  f.setWire(b, { n: 7 });
  assert.deepEqual(f.wire(b), { n: 7 });
  assert.equal(frame().wire(a), undefined, 'another frame shares nothing');
});

test('a form registered after a frame filled its slots still gets one', () => {
  const early = new WireFormat<number>('test-early');
  const f = frame();
  f.setWire(early, 1);
  const late = new WireFormat<number>('test-late');
  assert.equal(late.id, wireFormatCount() - 1);
  assert.equal(f.wire(late), undefined);
  f.setWire(late, 2);
  assert.equal(f.wire(early), 1);
  assert.equal(f.wire(late), 2);
});

test('retime drops timed forms and keeps forms with their own clock', () => {
  const timed = new WireFormat<Buffer>('test-timed');
  const own = new WireFormat<Buffer[]>('test-own-clock', { keepOnRetime: true });
  const f = frame();
  const pkts = [Buffer.from('rtp')];
  f.setWire(timed, Buffer.from('t'));
  f.setWire(own, pkts);
  f.retime(100);
  assert.ok(f.wire(timed), 'same time: nothing dropped');
  f.retime(300);
  assert.equal(f.dts, 300);
  assert.equal(f.pts, 340);
  assert.equal(f.wire(timed), undefined);
  assert.equal(f.wire(own), pkts);
});
