/**
 * RFC 7798 (H.265 over RTP) packetizer and depacketizer: the byte layout of
 * single NAL unit packets, Aggregation Packets (PayloadHdr type 48, F the OR
 * and LayerId/TID the lowest of the units, 16-bit sizes) and Fragmentation
 * Units (PayloadHdr type 49 with the unit's F/LayerId/TID, FU header S/E and
 * the type), and loss handling. The round trip through FFmpeg's decoder is
 * test/integration/rtp-h265-decode.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { H265Packetizer, HEVC_NAL_AP, HEVC_NAL_FU, hevcNalType } from '../../src/protocol/rtp/h265-packetizer.js';
import { H265Depacketizer } from '../../src/protocol/rtp/h265-depacketizer.js';
import { parseRtpHeader } from '../../src/protocol/rtp/rtp-packet.js';

const nal = (type: number, size: number, tid = 1, layer = 0): Buffer => {
  const b = Buffer.alloc(size, 0xab);
  b[0] = (type << 1) | (layer >> 5);
  b[1] = ((layer & 0x1f) << 3) | tid;
  return b;
};
const payload = (p: Buffer): Buffer => {
  const h = parseRtpHeader(p);
  return p.subarray(h.payloadOffset, h.payloadEnd);
};

test('parameter sets go in one Aggregation Packet, a small slice alone, a large one in Fragmentation Units', () => {
  const vps = nal(32, 24);
  const sps = nal(33, 40);
  const pps = nal(34, 8);
  const idr = nal(19, 2500);
  const pk = new H265Packetizer({ ssrc: 9, payloadType: 49, maxPayload: 1000, initialSequence: 65535 });
  const out = pk.packetize([vps, sps, pps, idr], 1234);
  assert.equal(out.length, 1 + 3, 'one AP and three FUs');
  const ap = payload(out[0]!);
  assert.equal(hevcNalType(ap[0]!), HEVC_NAL_AP);
  assert.deepEqual([ap[0], ap[1]], [HEVC_NAL_AP << 1, 0x01], 'F 0, LayerId 0, TID 1');
  assert.equal(ap.readUInt16BE(2), 24);
  assert.ok(ap.subarray(4, 28).equals(vps));
  assert.equal(ap.readUInt16BE(28), 40);
  assert.equal(ap.readUInt16BE(70), 8);
  assert.equal(ap.length, 2 + 3 * 2 + 24 + 40 + 8);
  assert.equal(parseRtpHeader(out[0]!).marker, false);
  const fus = out.slice(1).map(payload);
  for (const f of fus) assert.deepEqual([f[0], f[1]], [HEVC_NAL_FU << 1, 0x01], 'PayloadHdr type 49 with the unit\'s LayerId/TID');
  assert.deepEqual(fus.map((f) => f[2]), [0x80 | 19, 19, 0x40 | 19], 'FU header: S, -, E with FuType 19');
  assert.equal(fus.reduce((n, f) => n + f.length - 3, 0), 2500 - 2, 'the unit\'s payload without its 2-byte header');
  assert.deepEqual(out.map((p) => parseRtpHeader(p).marker), [false, false, false, true], 'the marker ends the access unit');
  assert.deepEqual(out.map((p) => parseRtpHeader(p).sequence), [65535, 0, 1, 2]);
  assert.ok(out.every((p) => parseRtpHeader(p).timestamp === 1234 && parseRtpHeader(p).payloadType === 49));

  const single = pk.packetize([nal(1, 300, 2)], 5000);
  assert.equal(single.length, 1);
  assert.ok(payload(single[0]!).equals(nal(1, 300, 2)), 'a unit that fits is its own payload');
  // AP header: F is the OR, LayerId and TID the lowest.
  const mixed = pk.packetize([nal(39, 10, 3, 2), Buffer.from([0x80 | (40 << 1), (1 << 3) | 2, 1, 2])], 1);
  const m = payload(mixed[0]!);
  assert.equal(hevcNalType(m[0]!), HEVC_NAL_AP);
  assert.equal(m[0]! & 0x80, 0x80, 'F set when a unit has it');
  assert.equal(((m[0]! & 1) << 5) | (m[1]! >> 3), 1, 'lowest LayerId');
  assert.equal(m[1]! & 7, 2, 'lowest TID');
});

test('the depacketizer rebuilds the units, drops a damaged access unit and waits for the next IRAP', () => {
  const pk = new H265Packetizer({ ssrc: 1, payloadType: 96, maxPayload: 500 });
  const units = [nal(32, 20), nal(33, 30), nal(34, 6), nal(19, 1800)];
  const d = new H265Depacketizer();
  let aus = pk.packetize(units, 3000).flatMap((p) => d.push(payload(p), 3000, parseRtpHeader(p).marker, false));
  assert.equal(aus.length, 1);
  assert.ok(aus[0]!.keyframe);
  assert.equal(aus[0]!.nalus.length, 4);
  aus[0]!.nalus.forEach((n, i) => assert.ok(n.equals(units[i]!), `unit ${i} is intact`));
  // A P frame with a lost middle fragment is dropped; the next P frame too (needs a keyframe).
  const p1 = pk.packetize([nal(1, 1400)], 6000);
  aus = [];
  aus.push(...d.push(payload(p1[0]!), 6000, false, false));
  aus.push(...d.push(payload(p1[2]!), 6000, true, true));
  assert.equal(aus.length, 0);
  assert.ok(d.needKeyframe);
  aus = pk.packetize([nal(1, 100)], 9000).flatMap((p) => d.push(payload(p), 9000, parseRtpHeader(p).marker, false));
  assert.equal(aus.length, 0, 'no P frame before the next IRAP');
  aus = pk.packetize([nal(21, 100)], 12000).flatMap((p) => d.push(payload(p), 12000, parseRtpHeader(p).marker, false));
  assert.equal(aus.length, 1, 'a CRA starts again');
  assert.throws(() => d.push(Buffer.from([50 << 1, 1, 0, 0]), 1, true, false), /unsupported/, 'PACI is refused');
  assert.throws(() => d.push(Buffer.from([HEVC_NAL_AP << 1, 1, 0, 200, 1, 2]), 2, true, false), /overruns/);
});
