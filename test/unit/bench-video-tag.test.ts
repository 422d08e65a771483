import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildStampNal, isVideoFrame, readAvcStamp, stampAvcBody, STAMP_UUID } from '../../bench/video-tag.js';
import { median, percentile } from '../../bench/stats.js';

const nal = (type: number, n: number): Buffer => {
  const b = Buffer.alloc(4 + n, 0x11);
  b.writeUInt32BE(n, 0);
  b[4] = type;
  return b;
};
const avcFrame = (...nals: Buffer[]): Buffer => Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), ...nals]);

describe('video tag helpers', () => {
  test('isVideoFrame: coded frames only, legacy and enhanced', () => {
    assert.equal(isVideoFrame(Buffer.from([0x17, 0x00, 0, 0, 0])), false); // AVC sequence header
    assert.equal(isVideoFrame(Buffer.from([0x17, 0x01, 0, 0, 0])), true);
    assert.equal(isVideoFrame(Buffer.from([0x27, 0x01, 0, 0, 0])), true);
    assert.equal(isVideoFrame(Buffer.from([0x27, 0x02, 0, 0, 0])), false); // end of sequence
    assert.equal(isVideoFrame(Buffer.from([0x52, 0x00])), false); // video info frame
    assert.equal(isVideoFrame(Buffer.from([0x22, 0x00, 0x00])), true); // Sorenson H.263
    assert.equal(isVideoFrame(Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31])), false); // ex: SequenceStart hvc1
    assert.equal(isVideoFrame(Buffer.from([0x91, 0x68, 0x76, 0x63, 0x31])), true); // ex: CodedFrames
    assert.equal(isVideoFrame(Buffer.from([0xa3, 0x68, 0x76, 0x63, 0x31])), true); // ex: CodedFramesX
    assert.equal(isVideoFrame(Buffer.from([0x17])), false);
  });

  test('stamp round trip, after an access unit delimiter when there is one', () => {
    const ms = 1712345678901.125;
    const plain = stampAvcBody(avcFrame(nal(5, 100)), ms);
    assert.ok(plain);
    assert.equal(plain.readUInt32BE(5), buildStampNal(ms).length - 4);
    assert.equal(plain[9] & 0x1f, 6);
    assert.equal(readAvcStamp(plain), ms);
    const withAud = stampAvcBody(avcFrame(nal(9, 2), nal(1, 50)), ms);
    assert.ok(withAud);
    assert.equal(withAud[9] & 0x1f, 9);
    assert.equal(withAud[9 + 2 + 4] & 0x1f, 6);
    assert.equal(readAvcStamp(withAud), ms);
  });

  test('the SEI needs no emulation prevention (no 00 00 in the NAL unit)', () => {
    // Millisecond times with a fraction, as performance.timeOrigin + now() gives them (doubles, not exact decimals).
    for (const ms of [0, 1, 999.999, 1712345678901.001, 9999999999999.998]) {
      const n = buildStampNal(ms).subarray(4);
      for (let i = 0; i + 1 < n.length; i++) assert.ok(!(n[i] === 0 && n[i + 1] === 0), `00 00 in stamp of ${ms}`);
    }
    assert.ok(!STAMP_UUID.includes(0));
  });

  test('no stamp: other frames, other codecs, broken NAL lengths', () => {
    assert.equal(readAvcStamp(avcFrame(nal(5, 10))), null);
    assert.equal(stampAvcBody(Buffer.from([0x17, 0x00, 0, 0, 0]), 1), null);
    assert.equal(stampAvcBody(Buffer.from([0x1c, 0x01, 0, 0, 0]), 1), null);
    const broken = avcFrame(nal(5, 10));
    broken.writeUInt32BE(0xffffff, 5);
    assert.equal(readAvcStamp(broken), null);
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(stampAvcBody(avcFrame(nal(1, 20)), 123.5) as Buffer);
      b[5 + Math.floor(Math.random() * (b.length - 5))] = Math.floor(Math.random() * 256);
      const v = readAvcStamp(b);
      assert.ok(v === null || typeof v === 'number');
    }
  });

  test('percentiles (nearest rank)', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(median(v), 50);
    assert.equal(percentile(v, 99), 99);
    assert.equal(percentile(v, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(median([])));
  });
});
