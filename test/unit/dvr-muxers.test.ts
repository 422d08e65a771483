import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { decodeAmf0, encodeAmf0, Amf0EcmaArray } from '../../src/format/amf0.js';
import { FlvDvrMuxer } from '../../src/outputs/dvr/flv-dvr-muxer.js';
import { Mp4DvrMuxer } from '../../src/outputs/dvr/mp4-dvr-muxer.js';
import type { DvrMuxer } from '../../src/outputs/dvr/dvr-muxer.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const AV1C = readFileSync(new URL('../../../test/fixtures/av1-160x120.av1c', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]);

/** Runs 3 s of 25 fps video (keyframe every second) and AAC through a muxer; returns the file with its patches applied. */
function record(m: DvrMuxer, meta?: Buffer): { file: Buffer; writes: number[] } {
  const out: Buffer[] = [];
  const writes: number[] = [];
  const push = (f: MediaFrame): void => {
    const b = m.push(f);
    if (b.length) writes.push(f.dts);
    out.push(...b);
  };
  if (meta) push(new MediaFrame('script', 'AMF0', 0, 0, false, false, meta, meta));
  push(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
  push(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
  let a = 0;
  for (let t = 0; t < 3000; t += 40) {
    const key = t % 1000 === 0;
    push(new MediaFrame('video', 'H264', t, t, key, false, Buffer.from([0, 0, 0, 2, key ? 0x65 : 0x41, 0]), null));
    for (; a < t + 40; a += 23) push(new MediaFrame('audio', 'AAC', a, a, false, false, Buffer.alloc(8), null));
  }
  out.push(...m.end());
  const file = Buffer.concat(out);
  for (const p of m.patches()) p.data.copy(file, p.offset);
  return { file, writes };
}

describe('FLV DVR muxer', () => {
  test('header with both flags, metadata first; its duration and filesize become the truth on close', () => {
    const meta = encodeAmf0(['onMetaData', new Amf0EcmaArray({ duration: 30, width: 320, filesize: 1 })]);
    const { file } = record(new FlvDvrMuxer(), meta);
    assert.equal(file.toString('latin1', 0, 3), 'FLV');
    assert.equal(file[4], 5);
    assert.equal(file[13], 18); // the first tag is the script tag
    const size = file.readUIntBE(14, 3);
    const [name, obj] = decodeAmf0(file.subarray(24, 24 + size));
    assert.equal(name, 'onMetaData');
    const o = obj as Record<string, number>;
    assert.equal(o.width, 320);
    assert.equal(o.duration, 2.99); // the last tag's time (audio at 2990 ms)
    assert.equal(o.filesize, file.length);
  });
});

describe('MP4 DVR muxer', () => {
  test('moov first, a fragment about every second (at keyframes), mvhd duration patched', () => {
    const m = new Mp4DvrMuxer();
    const { file, writes } = record(m);
    assert.equal(file.toString('latin1', 4, 8), 'ftyp');
    assert.ok(file.indexOf('moov', 0, 'latin1') > 0);
    assert.equal(file.toString('latin1').split('moof').length - 1, 3);
    assert.deepEqual(writes, [0, 1000, 2000]);
    const mvhd = file.indexOf('mvhd', 0, 'latin1');
    assert.equal(file.readUInt32BE(mvhd + 20), 3030); // last dts 2990 + one nominal frame
    assert.deepEqual(m.skipped, []);
  });

  test('a track MP4 cannot hold is left out and named; the others are recorded', () => {
    const m = new Mp4DvrMuxer();
    m.push(new MediaFrame('video', 'AV1', 0, 0, false, true, AV1C, null));
    m.push(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
    const init = Buffer.concat(m.push(new MediaFrame('audio', 'AAC', 0, 0, false, false, Buffer.alloc(8), null)));
    assert.ok(init.indexOf('mp4a', 0, 'latin1') > 0);
    assert.equal(init.indexOf('av01', 0, 'latin1'), -1);
    assert.match(m.skipped[0]!, /video AV1/);
  });
});
