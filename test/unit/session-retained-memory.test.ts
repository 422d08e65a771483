/**
 * What one RTMP session and one kept frame hold for as long as they live
 * (issue 17 item 4): measured after full collections, so that what is asserted
 * is retained memory, not garbage that has yet to be collected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RtmpChunkReader } from '../../src/protocol/rtmp/chunk-reader.js';
import { encodeRtmpMessage } from '../../src/protocol/rtmp/chunk-writer.js';
import { frameFromFlvTag } from '../../src/format/flv.js';
import type { MediaFrame } from '../../src/codec/media-frame.js';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settled(): NodeJS.MemoryUsage {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage();
}

test('a chunk reader pins no slab of Buffer pool: its partial-header stash owns its bytes', () => {
  const n = 2000;
  const readers: RtmpChunkReader[] = [];
  const before = settled();
  for (let i = 0; i < n; i++) {
    // What a connection allocates around its reader and drops (handshake packets: pooled, < 4 KB).
    Buffer.allocUnsafe(3073).fill(i);
    const r = new RtmpChunkReader();
    r.feed(Buffer.from([0x03])); // a partial chunk header: the stash is in use
    readers.push(r);
  }
  const after = settled();
  const perReader = (after.arrayBuffers - before.arrayBuffers) / n;
  // A pooled 18-byte stash kept a share of an 8 KB pool slab alive: ~3 KB per reader here.
  assert.ok(perReader < 512, `array buffer bytes retained per reader: ${perReader.toFixed(0)}`);
  assert.equal(readers.length, n);
});

test('a media message assembled from several chunks owns its bytes: a kept frame pins no pool slab', () => {
  const payload = Buffer.alloc(1000, 5);
  // Chunk size 128 (librtmp's default): eight chunks.
  const [m] = new RtmpChunkReader().feed(encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 0, payload }, 128, 6));
  assert.ok(m);
  assert.deepEqual(m.payload, payload);
  assert.equal(m.payload.buffer.byteLength, 1000, 'an ArrayBuffer of its own, not a slice of an 8 KB pool slab');
});

test('a frame from an RTMP/FLV message keeps one Buffer: its payload is made from the body when read', () => {
  // AVC NALU body: 5 bytes of FLV video header, then the length-prefixed NAL units.
  const body = Buffer.concat([Buffer.from([0x27, 1, 0, 0, 0]), Buffer.from([0, 0, 0, 3, 0x41, 0x9a, 0x02])]);
  const n = 20_000;
  const frames: MediaFrame[] = new Array<MediaFrame>(n);
  const before = settled();
  for (let i = 0; i < n; i++) frames[i] = frameFromFlvTag(9, i * 40, body) as MediaFrame;
  const after = settled();
  const perFrame = (after.heapUsed - before.heapUsed) / n;
  // A frame object and a second Buffer view per frame was ~190 bytes; one frame object is ~100.
  assert.ok(perFrame < 150, `heap bytes per kept frame: ${perFrame.toFixed(0)}`);
  const f = frames[n - 1];
  assert.equal(f.flvBody, body);
  assert.deepEqual([...f.payload], [0, 0, 0, 3, 0x41, 0x9a, 0x02]);
  assert.equal(f.payload.buffer, body.buffer, 'a view of the body, not a copy');
  assert.equal(f.payloadLength, 7);
});

test('payload and flvBody stay consistent through detach and a new body', () => {
  const read = Buffer.alloc(64 * 1024, 7);
  const body = read.subarray(100, 112);
  body.set([0xaf, 1, 0x21, 0x10, 4, 0x60, 0x8c, 0x1c, 1, 2, 3, 4]);
  const f = frameFromFlvTag(8, 0, body) as MediaFrame;
  assert.deepEqual([...f.payload], [0x21, 0x10, 4, 0x60, 0x8c, 0x1c, 1, 2, 3, 4]);
  f.detach();
  assert.equal(f.flvBody?.buffer.byteLength, 12, 'the body has its own buffer, the 64 KB read is free');
  assert.equal(f.payload.buffer, f.flvBody?.buffer, 'the payload moved with it');
  assert.deepEqual([...f.payload], [0x21, 0x10, 4, 0x60, 0x8c, 0x1c, 1, 2, 3, 4]);
  // A body set afterwards (another form of the same frame) leaves the payload's bytes as they were.
  const payload = f.payload;
  f.flvBody = Buffer.from([9, 9]);
  assert.deepEqual(f.payload, payload);
  assert.equal(f.payloadLength, 10);
  f.flvBody = null;
  assert.deepEqual(f.payload, payload);
  // A payload given apart from the body is kept as given.
  const own = Buffer.from([1, 2, 3]);
  f.payload = own;
  assert.equal(f.payload, own);
});
