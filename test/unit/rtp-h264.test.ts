import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { H264Packetizer, webrtcNalus, h264SliceType, isDroppableBFrame, NAL_FU_A, NAL_STAP_A } from '../../src/protocol/rtp/h264-packetizer.js';
import { H264Depacketizer, type H264AccessUnit } from '../../src/protocol/rtp/h264-depacketizer.js';
import { RtpJitterBuffer } from '../../src/protocol/rtp/jitter-buffer.js';
import { parseRtpHeader } from '../../src/protocol/rtp/rtp-packet.js';
import { h264StartsKeyframe } from '../../src/protocol/rtp/video-keyframe.js';
import { RtpError } from '../../src/protocol/rtp/rtp-error.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8]);
const PPS = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
function nal(type: number, size: number, fill = 0): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 1; i < size; i++) b[i] = (i * 7 + fill) & 0xff;
  b[0] = 0x60 | type;
  return b;
}
function avcc(nalus: Buffer[]): Buffer {
  return Buffer.concat(nalus.flatMap((n) => [Buffer.from([0, 0, 0, 0]).fill(0).map((_, i) => (n.length >>> (24 - 8 * i)) & 0xff), n]));
}

/** Packet → payload/timestamp/marker as the depacketizer takes them. */
function feed(d: H264Depacketizer, pkts: Buffer[], lostAt = new Set<number>()): H264AccessUnit[] {
  const out: H264AccessUnit[] = [];
  let lost = false;
  pkts.forEach((p, i) => {
    if (lostAt.has(i)) {
      lost = true;
      return;
    }
    const h = parseRtpHeader(p);
    out.push(...d.push(p.subarray(h.payloadOffset, h.payloadEnd), h.timestamp, h.marker, lost));
    lost = false;
  });
  return out;
}

describe('H.264 packetizer', () => {
  test('odd NAL sizes round-trip through the depacketizer, byte for byte', () => {
    const p = new H264Packetizer({ ssrc: 0x1234, payloadType: 102, maxPayload: 1200, initialSequence: 65530 });
    for (const size of [1, 2, 3, 1199, 1200, 1201, 1202, 2397, 2398, 5000, 65536]) {
      const units = [SPS, PPS, nal(5, size)];
      const pkts = p.packetize(units, 9000);
      const d = new H264Depacketizer();
      const aus = feed(d, pkts);
      assert.equal(aus.length, 1, `size ${size}`);
      assert.ok(aus[0]!.keyframe);
      assert.equal(aus[0]!.timestamp, 9000);
      assert.deepEqual(aus[0]!.nalus.map((n) => n.toString('hex')), units.map((n) => n.toString('hex')), `size ${size}`);
      for (const pk of pkts) assert.ok(pk.length <= 12 + 1200, `packet of ${pk.length} bytes`);
      assert.equal(pkts.filter((x) => parseRtpHeader(x).marker).length, 1, 'one marker per access unit');
      assert.ok(parseRtpHeader(pkts[pkts.length - 1]!).marker);
    }
  });

  test('SPS/PPS go in one STAP-A; a large IDR is split in FU-A with S/E bits; sequence numbers wrap', () => {
    const p = new H264Packetizer({ ssrc: 7, payloadType: 96, maxPayload: 1000, initialSequence: 0xfffe });
    const pkts = p.packetize([SPS, PPS, nal(5, 2500)], 1);
    const hs = pkts.map((x) => parseRtpHeader(x));
    assert.deepEqual(hs.map((h) => h.sequence), [0xfffe, 0xffff, 0, 1]);
    assert.equal(pkts[0]![12]! & 0x1f, NAL_STAP_A);
    assert.equal(pkts[0]!.readUInt16BE(13), SPS.length);
    assert.equal(pkts[1]![12]! & 0x1f, NAL_FU_A);
    assert.equal(pkts[1]![13], 0x80 | 5);
    assert.equal(pkts[2]![13], 5);
    assert.equal(pkts[3]![13], 0x40 | 5);
    assert.ok(h264StartsKeyframe(pkts[0]!.subarray(12)));
    assert.ok(h264StartsKeyframe(pkts[1]!.subarray(12)));
    assert.ok(!h264StartsKeyframe(pkts[2]!.subarray(12)));
  });

  test('webrtcNalus drops AUD, optionally SEI, and puts SPS/PPS before an IDR that lacks them', () => {
    const au = avcc([nal(9, 2), nal(6, 5), nal(5, 40)]);
    const out = webrtcNalus(au, [SPS], [PPS], false);
    assert.deepEqual(out.map((n) => n[0]! & 0x1f), [7, 8, 5]);
    assert.deepEqual(webrtcNalus(au, [SPS], [PPS], true).map((n) => n[0]! & 0x1f), [7, 8, 6, 5]);
    assert.deepEqual(webrtcNalus(avcc([nal(1, 30)]), [SPS], [PPS], true).map((n) => n[0]! & 0x1f), [1]);
    assert.throws(() => webrtcNalus(Buffer.from([0, 0, 0, 9, 0x65]), [], [], true), RtpError);
  });

  test('slice types: B slices with nal_ref_idc 0 are droppable, reference pictures are not', () => {
    // first_mb_in_slice = 0 ("1"), slice_type = 1 (B) "010", 5 (P? no: 0=P,1=B,2=I; +5 same) → bits
    const bSlice = Buffer.from([0x01, 0b10100000]); // nal_ref_idc 0, type 1; ue 0 → '1', ue 1 → '010'
    const pSlice = Buffer.from([0x41, 0b11000000]); // ref, ue 0, ue 0 (P)
    const idr = Buffer.from([0x65, 0b10110000]); // ue 0, ue 2 (I) → '011'
    assert.equal(h264SliceType(bSlice), 1);
    assert.equal(h264SliceType(pSlice), 0);
    assert.equal(h264SliceType(idr), 2);
    assert.equal(h264SliceType(SPS), -1);
    assert.ok(isDroppableBFrame([bSlice]));
    assert.ok(!isDroppableBFrame([pSlice]));
    assert.ok(!isDroppableBFrame([Buffer.from([0x21, 0b10100000])]), 'a reference B picture is kept');
    assert.ok(!isDroppableBFrame([SPS]));
  });
});

describe('H.264 depacketizer', () => {
  function gop(p: H264Packetizer, frames: number, size: number, t0 = 0): Buffer[][] {
    const out: Buffer[][] = [];
    for (let i = 0; i < frames; i++) out.push(p.packetize(i === 0 ? [SPS, PPS, nal(5, size)] : [nal(1, size, i)], t0 + i * 3000));
    return out;
  }

  test('a lost FU-A fragment drops that access unit and what follows until the next IDR', () => {
    const p = new H264Packetizer({ ssrc: 1, payloadType: 96, maxPayload: 500 });
    const frames = [...gop(p, 4, 1800), ...gop(p, 2, 1800, 12000)];
    const d = new H264Depacketizer();
    // Lose the 2nd fragment of the 2nd frame (ts 3000).
    const lostIndex = frames[0]!.length + 1;
    const aus = feed(d, frames.flat(), new Set([lostIndex]));
    // The frame with the hole is damaged; 6000 and 9000 reference it: all dropped until the IDR at 12000.
    assert.deepEqual(aus.map((a) => a.timestamp), [0, 12000, 15000]);
    const after = aus.slice(1);
    assert.ok(after[0]!.keyframe);
    assert.equal(d.droppedUnits, 3);
    assert.equal(d.needKeyframe, false);
  });

  test('lostBefore at a frame boundary drops the frame and asks for a keyframe', () => {
    const p = new H264Packetizer({ ssrc: 1, payloadType: 96, maxPayload: 1200 });
    const frames = gop(p, 3, 100);
    const d = new H264Depacketizer();
    assert.equal(feed(d, frames[0]!).length, 1);
    // Frame 1 lost entirely; frame 2 arrives with lostBefore.
    const h = parseRtpHeader(frames[2]![0]!);
    assert.deepEqual(d.push(frames[2]![0]!.subarray(h.payloadOffset, h.payloadEnd), h.timestamp, h.marker, true), []);
    assert.ok(d.needKeyframe);
  });

  test('reordered packets come out in order through the jitter buffer', () => {
    const p = new H264Packetizer({ ssrc: 1, payloadType: 96, maxPayload: 300, initialSequence: 65500 });
    const pkts = gop(p, 5, 1000).flat();
    const shuffled = [...pkts];
    // Swap neighbours pairwise and move one packet 5 places later.
    for (let i = 0; i + 1 < shuffled.length; i += 2) [shuffled[i], shuffled[i + 1]] = [shuffled[i + 1]!, shuffled[i]!];
    const [moved] = shuffled.splice(3, 1);
    shuffled.splice(8, 0, moved!);
    const jb = new RtpJitterBuffer<Buffer>({ maxDelayMs: 100 });
    const d = new H264Depacketizer();
    const aus: H264AccessUnit[] = [];
    let t = 0;
    for (const pk of shuffled) {
      jb.push(parseRtpHeader(pk).sequence, pk, t++);
      for (let o = jb.pop(t); o; o = jb.pop(t)) {
        const h = parseRtpHeader(o.item);
        aus.push(...d.push(o.item.subarray(h.payloadOffset, h.payloadEnd), h.timestamp, h.marker, o.lostBefore));
      }
    }
    assert.deepEqual(aus.map((a) => a.timestamp), [0, 3000, 6000, 9000, 12000]);
    assert.equal(jb.lost, 0);
  });

  test('malformed payloads throw RtpError; a bounded fuzz never hangs or throws anything else', () => {
    const d = new H264Depacketizer({ maxNaluBytes: 10_000 });
    assert.throws(() => d.push(Buffer.alloc(0), 1, true, false), RtpError);
    assert.throws(() => d.push(Buffer.from([24, 0, 9, 0x67]), 1, true, false), RtpError);
    assert.throws(() => d.push(Buffer.from([28, 0x85]), 1, true, false), RtpError);
    assert.throws(() => d.push(Buffer.from([30, 1, 2]), 1, true, false), RtpError);
    const p = new H264Packetizer({ ssrc: 1, payloadType: 96, maxPayload: 200 });
    const good = gop(p, 3, 700).flat();
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const start = process.cpuUsage(); // CPU, not wall time: a busy machine must not fail it
    for (let i = 0; i < 20_000; i++) {
      const base = good[rnd(good.length)]!;
      const h = parseRtpHeader(base);
      let payload = Buffer.from(base.subarray(h.payloadOffset, h.payloadEnd));
      if (rnd(3) === 0) payload = Buffer.from(Array.from({ length: rnd(40) }, () => rnd(256)));
      else for (let k = rnd(4); k >= 0; k--) payload[rnd(payload.length)] = rnd(256);
      try {
        d.push(payload, rnd(4) * 3000, rnd(2) === 0, rnd(10) === 0);
      } catch (err) {
        assert.ok(err instanceof RtpError, String(err));
      }
    }
    assert.ok(cpuMsSince(start) < 5000);
  });
});
