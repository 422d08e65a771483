import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildRtx, unwrapRtx } from '../../src/protocol/rtp/rtx.js';
import { buildTwccFeedback, parseTwccFeedback, readTransportSeq, TwccRecorder, TWCC_URI } from '../../src/protocol/rtp/twcc.js';
import { parseMediaRepair, rtxPayloadFor, hasFeedback, withoutFeedback } from '../../src/protocol/rtp/sdp-repair.js';
import { parseSdp } from '../../src/protocol/rtp/sdp.js';
import { parseRtpHeader } from '../../src/protocol/rtp/rtp-packet.js';
import { parseRtcp } from '../../src/protocol/rtp/rtcp.js';
import { RtpError } from '../../src/protocol/rtp/rtp-error.js';

/** A packet with one CSRC, a one-byte-form extension (ID 3: transport seq `tseq`), payload and 2 bytes of padding. */
function media(seq: number, tseq: number, payload: Buffer, pad = 2): Buffer {
  const b = Buffer.alloc(12 + 4 + 8 + payload.length + pad);
  b[0] = 0x80 | (pad ? 0x20 : 0) | 0x10 | 1;
  b[1] = 0x80 | 102;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(123456, 4);
  b.writeUInt32BE(0x11111111, 8);
  b.writeUInt32BE(0xc5c5c5c5, 12);
  b.writeUInt16BE(0xbede, 16);
  b.writeUInt16BE(1, 18);
  b[20] = (3 << 4) | 1;
  b.writeUInt16BE(tseq, 21);
  payload.copy(b, 24);
  if (pad) b[b.length - 1] = pad;
  return b;
}

describe('RTX (RFC 4588)', () => {
  test('wraps: own PT, SSRC and sequence, original timestamp, marker, CSRC and extension, OSN first, no padding', () => {
    const orig = media(40000, 7, Buffer.from('hello'));
    const rtx = buildRtx(orig, parseRtpHeader(orig), 103, 9, 0x22222222);
    assert.equal(rtx.length, 12 + 4 + 8 + 2 + 5);
    assert.equal(rtx[0], 0x80 | 0x10 | 1, 'padding bit cleared');
    assert.equal(rtx[1], 0x80 | 103);
    assert.equal(rtx.readUInt16BE(2), 9);
    assert.equal(rtx.readUInt32BE(4), 123456);
    assert.equal(rtx.readUInt32BE(8), 0x22222222);
    assert.equal(rtx.readUInt32BE(12), 0xc5c5c5c5);
    assert.equal(readTransportSeq(rtx, 3), 7);
    assert.equal(rtx.readUInt16BE(24), 40000, 'OSN');
    assert.equal(rtx.subarray(26).toString(), 'hello');
  });

  test('unwraps back to the original (less its padding); a padding-only RTX packet is no packet', () => {
    const orig = media(65535, 1, Buffer.from([1, 2, 3, 4]));
    const rtx = buildRtx(orig, parseRtpHeader(orig), 103, 500, 0x22222222);
    const back = unwrapRtx(rtx, parseRtpHeader(rtx), 102, 0x11111111)!;
    const h = parseRtpHeader(back);
    assert.deepEqual([h.payloadType, h.sequence, h.ssrc, h.timestamp, h.marker], [102, 65535, 0x11111111, 123456, true]);
    assert.deepEqual([...back.subarray(h.payloadOffset, h.payloadEnd)], [1, 2, 3, 4]);
    assert.deepEqual(back, media(65535, 1, Buffer.from([1, 2, 3, 4]), 0));
    const probe = Buffer.alloc(12 + 200);
    probe[0] = 0x80 | 0x20;
    probe[1] = 103;
    probe[probe.length - 1] = 200;
    assert.equal(unwrapRtx(probe, parseRtpHeader(probe), 102, 1), null);
  });
});

describe('transport-wide sequence number extension', () => {
  test('one-byte and two-byte forms, padding bytes, absent', () => {
    const one = media(1, 4242, Buffer.from('x'), 0);
    assert.equal(readTransportSeq(one, 3), 4242);
    assert.equal(readTransportSeq(one, 5), -1);
    const two = Buffer.alloc(12 + 4 + 8 + 1);
    two[0] = 0x90;
    two.writeUInt16BE(0x1000, 12);
    two.writeUInt16BE(2, 14);
    two[16] = 0; // padding
    two[17] = 9;
    two[18] = 1;
    two[19] = 0xaa;
    two[20] = 4;
    two[21] = 2;
    two.writeUInt16BE(65000, 22);
    assert.equal(readTransportSeq(two, 4), 65000);
    assert.equal(readTransportSeq(Buffer.alloc(20, 0x80), 3), -1, 'no extension bit');
    const cut = media(1, 9, Buffer.alloc(0), 0);
    assert.equal(readTransportSeq(cut.subarray(0, 18), 3), -1, 'truncated');
  });
});

describe('transport-cc feedback (draft-holmer-01 §3.1)', () => {
  test('byte layout: a two-bit status vector, small, large and negative deltas, RTCP padding', () => {
    // Packet 100 at 128.5 ms (ref 2 × 64 ms, delta 2 × 250 µs), 101 lost, 102 70 ms later (280: large), 103 250 µs before 102 (−1).
    const b = buildTwccFeedback(1, 2, 100, 7, [128_500, -1, 198_500, 198_250]);
    assert.equal(b.toString('hex'), ['afcd0006', '00000001', '00000002', '00640004', '00000207', 'd280', '02', '0118', 'ffff', '01'].join(''));
    const f = parseTwccFeedback(b);
    assert.deepEqual(f.packets, [
      { sequence: 100, arrivalUs: 128_500 },
      { sequence: 101, arrivalUs: -1 },
      { sequence: 102, arrivalUs: 198_500 },
      { sequence: 103, arrivalUs: 198_250 },
    ]);
    assert.deepEqual([f.sender, f.media, f.baseSequence, f.referenceUs, f.feedbackCount], [1, 2, 100, 128_000, 7]);
    assert.deepEqual(parseRtcp(b), [{ type: 'other', packetType: 205, fmt: 15 }], 'a valid RTCP packet to the compound parser');
  });

  test('a run of 20 small deltas is one run-length chunk; 1-bit status vectors parse', () => {
    const arrivals = Array.from({ length: 20 }, (_, i) => 1_000_000 + i * 1000);
    const b = buildTwccFeedback(1, 2, 65530, 0, arrivals);
    assert.equal(b.readUInt16BE(20), 0x2000 | 20);
    const f = parseTwccFeedback(b);
    assert.equal(f.packets.length, 20);
    assert.equal(f.packets[19]!.sequence, (65530 + 19) & 0xffff);
    f.packets.forEach((p, i) => assert.equal(p.arrivalUs, arrivals[i]));
    // A hand-made 1-bit vector chunk: received, lost, received (deltas 4 and 8).
    const h = Buffer.alloc(24);
    h[0] = 0x8f;
    h[1] = 205;
    h.writeUInt16BE(5, 2);
    h.writeUInt32BE(1, 4);
    h.writeUInt32BE(2, 8);
    h.writeUInt16BE(5, 12);
    h.writeUInt16BE(3, 14);
    h.writeUIntBE(1, 16, 3);
    h.writeUInt16BE(0x8000 | (1 << 13) | (0 << 12) | (1 << 11), 20);
    h.writeUInt16BE(0x0408, 22);
    const g = parseTwccFeedback(h);
    assert.deepEqual(g.packets.map((p) => p.arrivalUs), [64_000 + 1000, -1, 64_000 + 3000]);
  });

  test('malformed feedback throws RtpError', () => {
    const b = buildTwccFeedback(1, 2, 0, 0, [1000, 2000, 3000]);
    assert.throws(() => parseTwccFeedback(b.subarray(0, 19)), RtpError);
    const cut = Buffer.from(b);
    cut.writeUInt16BE(200, 14); // more statuses than chunks
    assert.throws(() => parseTwccFeedback(cut), RtpError);
  });
});

describe('TwccRecorder', () => {
  test('reports arrivals across a sequence wrap and reordering, then nothing until more arrive', () => {
    const r = new TwccRecorder();
    const seqs = [65533, 65534, 0, 65535, 2, 3];
    seqs.forEach((s, i) => r.onPacket(s, 5_000_000 + i * 500));
    const out = r.flush(1, 2);
    assert.equal(out.length, 1);
    const f = parseTwccFeedback(out[0]!);
    assert.equal(f.baseSequence, 65533);
    assert.deepEqual(
      f.packets.map((p) => [p.sequence, p.arrivalUs]),
      [[65533, 5_000_000], [65534, 5_000_500], [65535, 5_001_500], [0, 5_001_000], [1, -1], [2, 5_002_000], [3, 5_002_500]],
    );
    assert.deepEqual(r.flush(1, 2), []);
    r.onPacket(1, 5_010_000); // reported as lost already: left out
    r.onPacket(4, 5_010_000);
    const next = parseTwccFeedback(r.flush(1, 2)[0]!);
    assert.deepEqual([next.baseSequence, next.packets.length, next.feedbackCount], [4, 1, 1]);
  });

  test('a gap longer than a 16-bit delta splits the feedback; a long run is split under an MTU', () => {
    const r = new TwccRecorder();
    r.onPacket(10, 1_000_000);
    r.onPacket(11, 1_000_000 + 9_000_000);
    const out = r.flush(1, 2).map(parseTwccFeedback);
    assert.deepEqual(out.map((f) => [f.baseSequence, f.packets.length]), [[10, 1], [11, 1]]);
    assert.equal(out[1]!.packets[0]!.arrivalUs, 10_000_000);
    for (let i = 0; i < 1000; i++) r.onPacket((12 + i) & 0xffff, 20_000_000 + i * 100);
    const many = r.flush(1, 2);
    assert.ok(many.length >= 3 && many.every((b) => b.length < 1200), many.map((b) => b.length).join());
    assert.equal(many.map(parseTwccFeedback).reduce((n, f) => n + f.packets.length, 0), 1000);
  });
});

describe('SDP: RTX pairing, FID groups, extension IDs', () => {
  const offer = [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97 108 109', 'a=mid:0', 'a=rtcp-mux',
    `a=extmap:4 ${TWCC_URI}`, 'a=extmap:9/sendonly urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 transport-cc', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
    'a=rtpmap:108 H264/90000', 'a=rtcp-fb:108 nack', 'a=fmtp:108 packetization-mode=1;profile-level-id=42e01f',
    'a=rtpmap:109 rtx/90000', 'a=fmtp:109 apt=108',
    'a=ssrc-group:FID 1243693443 3134809709', 'a=ssrc:1243693443 cname:x', 'a=ssrc:3134809709 cname:x',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1', `a=extmap:4 ${TWCC_URI}`, 'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc',
    '',
  ].join('\r\n');

  test('the rtx payload type of a codec, the FID map and the transport-cc ID per mid', () => {
    const m = parseSdp(offer).media;
    assert.equal(rtxPayloadFor(m[0]!, 108), 109);
    assert.equal(rtxPayloadFor(m[0]!, 96), 97);
    assert.equal(rtxPayloadFor(m[1]!, 111), 0);
    assert.ok(hasFeedback(m[0]!, 96, 'transport-cc'));
    assert.ok(!hasFeedback(m[0]!, 108, 'transport-cc'));
    const r = parseMediaRepair(offer);
    assert.deepEqual([...r.get('0')!.rtxToMedia], [[3134809709, 1243693443]]);
    assert.equal(r.get('0')!.extensions.get(TWCC_URI), 4);
    assert.equal(r.get('0')!.extensions.get('urn:ietf:params:rtp-hdrext:sdes:mid'), 9);
    assert.equal(r.get('1')!.extensions.get(TWCC_URI), 4);
    assert.equal(r.get('1')!.rtxToMedia.size, 0);
  });

  test('withoutFeedback drops exactly that feedback (rtc.nack off: `nack` goes, `nack pli` stays)', () => {
    const sdp = offer.replace('a=rtcp-fb:108 nack\r\n', 'a=rtcp-fb:108 nack\r\na=rtcp-fb:108 nack pli\r\n');
    const out = withoutFeedback(sdp, 'nack');
    assert.doesNotMatch(out, /a=rtcp-fb:108 nack\r\n/);
    assert.match(out, /a=rtcp-fb:108 nack pli\r\n/);
    assert.match(out, /a=rtcp-fb:96 transport-cc\r\n/);
    assert.equal(out.split('\r\n').length, sdp.split('\r\n').length - 1);
  });
});
