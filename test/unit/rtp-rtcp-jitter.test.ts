import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseRtcp, buildPli, buildNack, buildSr, buildRr, buildRemb, ReceiveStats } from '../../src/protocol/rtp/rtcp.js';
import { RtpJitterBuffer } from '../../src/protocol/rtp/jitter-buffer.js';
import { parseRtpHeader, writeRtpHeader, rewriteRtp, isRtcp, seqDelta } from '../../src/protocol/rtp/rtp-packet.js';
import { RtpError } from '../../src/protocol/rtp/rtp-error.js';

describe('RTP header', () => {
  test('parses CSRCs, extension and padding; rewrites in place', () => {
    const b = Buffer.alloc(12 + 4 + 8 + 5 + 3);
    b[0] = 0x80 | 0x20 | 0x10 | 1; // padding, extension, 1 CSRC
    b[1] = 0x80 | 111;
    b.writeUInt16BE(65535, 2);
    b.writeUInt32BE(0xdeadbeef, 4);
    b.writeUInt32BE(42, 8);
    b.writeUInt16BE(0xbede, 16);
    b.writeUInt16BE(1, 18);
    b[b.length - 1] = 3;
    const h = parseRtpHeader(b);
    assert.equal(h.payloadType, 111);
    assert.ok(h.marker);
    assert.equal(h.sequence, 65535);
    assert.equal(h.timestamp, 0xdeadbeef);
    assert.equal(h.payloadOffset, 12 + 4 + 8);
    assert.equal(h.payloadEnd, b.length - 3);
    rewriteRtp(b, 96, 7, 9, 10);
    const r = parseRtpHeader(b);
    assert.deepEqual([r.payloadType, r.marker, r.sequence, r.timestamp, r.ssrc], [96, true, 7, 9, 10]);
    assert.equal(seqDelta(65535, 2), 3);
    assert.equal(seqDelta(2, 65535), -3);
    assert.throws(() => parseRtpHeader(Buffer.alloc(11)), RtpError);
    const w = Buffer.alloc(12);
    writeRtpHeader(w, 200 & 0x7f, 1, 2, 3, false);
    assert.ok(isRtcp(Buffer.from([0x80, 200, 0, 0])));
    assert.ok(!isRtcp(w.fill(0x60, 1, 2)));
  });
});

describe('RTCP', () => {
  test('PLI, NACK, SR, RR and REMB build and parse back', () => {
    const nack = buildNack(1, 0xabc, [100, 101, 116, 117, 65535, 0, 300]);
    const items = parseRtcp(Buffer.concat([buildSr(5, 1_700_000_000_500, 90000, 10, 1000), buildPli(1, 0xabc), nack, buildRr(1, [{ ssrc: 9, fractionLost: 12, cumulativeLost: 3, extendedHighestSeq: 70000, jitter: 5, lastSr: 1, delaySinceLastSr: 2 }]), buildRemb(1, 2_500_000, [9])]));
    assert.equal(items[0]!.type, 'sr');
    if (items[0]!.type === 'sr') {
      assert.equal(items[0]!.rtpTimestamp, 90000);
      assert.equal(items[0]!.ntpSec, 1_700_000_000 + 2208988800);
      assert.ok(Math.abs(items[0]!.ntpFrac / 2 ** 32 - 0.5) < 1e-6);
    }
    assert.deepEqual(items[1], { type: 'pli', sender: 1, media: 0xabc });
    assert.equal(items[2]!.type, 'nack');
    if (items[2]!.type === 'nack') assert.deepEqual([...items[2]!.lost].sort((a, b) => a - b), [0, 100, 101, 116, 117, 300, 65535]);
    assert.deepEqual(items[3], { type: 'rr', ssrc: 1, reports: 1 });
    assert.deepEqual(items[4], { type: 'other', packetType: 206, fmt: 15 });
  });

  test('receive statistics: loss fraction and extended sequence across a wrap', () => {
    const st = new ReceiveStats(9, 90000);
    for (let s = 65530; s < 65536 + 9; s++) if (s % 5 !== 0) st.onPacket(s & 0xffff, s * 3000, s * 33);
    const b = st.block(0)!;
    assert.equal(b.extendedHighestSeq, 65536 + 8);
    assert.equal(b.cumulativeLost, 2);
    assert.ok(b.fractionLost > 0);
  });

  test('truncated or hostile RTCP throws RtpError, bounded', () => {
    assert.throws(() => parseRtcp(Buffer.from([0x81, 206, 0, 2, 0, 0])), RtpError);
    assert.throws(() => parseRtcp(Buffer.from([0x41, 206, 0, 0])), RtpError);
    // A NACK with 16k FCI entries reports at most 1024 items.
    const big = Buffer.alloc(12 + 4 * 16000, 0xff);
    big[0] = 0x81;
    big[1] = 205;
    big.writeUInt16BE(2 + 16000, 2);
    const [n] = parseRtcp(big);
    assert.ok(n!.type === 'nack' && n!.lost.length <= 1024);
    let seed = 7;
    const rnd = (m: number): number => ((seed = (seed * 48271) % 0x7fffffff) % m);
    const good = Buffer.concat([buildSr(5, 1e12, 1, 1, 1), buildNack(1, 2, [1, 5, 9])]);
    for (let i = 0; i < 20_000; i++) {
      const b = rnd(2) ? Buffer.from(good) : Buffer.from(Array.from({ length: rnd(64) }, () => rnd(256)));
      for (let k = rnd(5); k > 0; k--) b[rnd(b.length)] = rnd(256);
      try {
        parseRtcp(b.subarray(0, rnd(b.length + 1)));
      } catch (err) {
        assert.ok(err instanceof RtpError, String(err));
      }
    }
  });
});

describe('jitter buffer', () => {
  test('reorders, drops duplicates, waits for a gap then skips it as a loss', () => {
    const jb = new RtpJitterBuffer<number>({ maxDelayMs: 100 });
    for (const s of [65534, 0, 65535, 0, 2]) jb.push(s, s, 0);
    const out: number[] = [];
    for (let o = jb.pop(10); o; o = jb.pop(10)) out.push(o.item);
    assert.deepEqual(out, [65534, 65535, 0]);
    assert.equal(jb.duplicates, 1);
    assert.deepEqual(jb.missing(10), [1]);
    assert.deepEqual(jb.missing(20), [], 'not NACKed twice within the interval');
    assert.deepEqual(jb.missing(60), [1]);
    assert.equal(jb.pop(50), null, 'still waiting for 1');
    const o = jb.pop(101)!;
    assert.equal(o.item, 2);
    assert.ok(o.lostBefore);
    assert.equal(jb.lost, 1);
    jb.push(1, 1, 102);
    assert.equal(jb.pop(103), null, 'a late packet is dropped');
  });

  test('a jump beyond capacity keeps memory bounded and goes on', () => {
    const jb = new RtpJitterBuffer<number>({ capacity: 64, maxDelayMs: 0 });
    jb.push(10, 10, 0);
    jb.push(10 + 1000, 1010, 0);
    let n = 0;
    for (let o = jb.pop(1); o; o = jb.pop(1)) n++;
    assert.ok(n >= 1);
    assert.ok(jb.size <= 64);
    jb.push(1011, 1011, 2);
    assert.equal(jb.pop(2)?.item, 1011);
  });
});
