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

const FORMAT = new WireFormat<string>('test-detach');

test('detach copies a frame out of the read it was sliced from, keeping payload inside flvBody', () => {
  const read = Buffer.alloc(65536, 7);
  read.set([0x17, 0x00, 0, 0, 0, 1, 2, 3], 1000);
  const body = read.subarray(1000, 1008);
  const f = new MediaFrame('video', 'H264', 0, 0, false, true, body.subarray(5), body);
  f.setWire(FORMAT, 'cached');
  f.detach();
  assert.equal(f.flvBody!.buffer.byteLength, 8);
  assert.deepEqual([...f.flvBody!], [0x17, 0x00, 0, 0, 0, 1, 2, 3]);
  assert.deepEqual([...f.payload], [1, 2, 3]);
  assert.equal(f.payload.buffer, f.flvBody!.buffer, 'payload is still a view of the body');
  assert.equal(f.wire(FORMAT), undefined, 'serialized forms are dropped');
  read.fill(0);
  assert.deepEqual([...f.payload], [1, 2, 3], 'the copy no longer shares the read');
  // A payload apart from its body (a re-encoded frame) is copied on its own.
  const g = new MediaFrame('audio', 'AAC', 0, 0, false, true, read.subarray(10, 12), null);
  g.detach();
  assert.equal(g.payload.buffer.byteLength, 2);
});
