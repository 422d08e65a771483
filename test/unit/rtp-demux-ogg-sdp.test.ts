import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { classifyPacket, isStunBindingRequest, Rfc4571Deframer, frameRfc4571 } from '../../src/protocol/rtp/packet-classifier.js';
import { parseStun } from '../../src/protocol/stun/stun-message.js';
import { OggOpusWriter, OggReader, opusPacketSamples, oggCrc } from '../../src/protocol/rtp/ogg-opus.js';
import { parseSdp, chooseH264, chooseCodec, replaceCandidates } from '../../src/protocol/rtp/sdp.js';
import { RtpError } from '../../src/protocol/rtp/rtp-error.js';
import { buildPli } from '../../src/protocol/rtp/rtcp.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

function stunBinding(username: string): Buffer {
  const u = Buffer.from(username);
  const padded = (u.length + 3) & ~3;
  const b = Buffer.alloc(20 + 4 + padded);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt16BE(4 + padded, 2);
  b.writeUInt32BE(0x2112a442, 4);
  b.writeUInt16BE(0x0006, 20);
  b.writeUInt16BE(u.length, 22);
  u.copy(b, 24);
  return b;
}

describe('one-port demux (RFC 7983)', () => {
  test('STUN, DTLS, RTP, RTCP and garbage are told apart', () => {
    const stun = stunBinding('abcd:efgh');
    assert.equal(classifyPacket(stun), 'stun');
    assert.ok(isStunBindingRequest(stun));
    assert.equal(parseStun(stun)?.username, 'abcd:efgh');
    const dtls = Buffer.alloc(40, 0);
    dtls[0] = 22;
    assert.equal(classifyPacket(dtls), 'dtls');
    const rtp = Buffer.alloc(100);
    rtp[0] = 0x80;
    rtp[1] = 96;
    assert.equal(classifyPacket(rtp), 'rtp');
    assert.equal(classifyPacket(buildPli(1, 2)), 'rtcp');
    for (const g of [Buffer.alloc(0), Buffer.from([0x00]), Buffer.from([0x10, 1, 2]), Buffer.alloc(30, 0xff), Buffer.from([0x80, 96])]) assert.equal(classifyPacket(g), 'unknown');
    // STUN-looking bytes with a wrong cookie or length are not STUN.
    const bad = Buffer.from(stun);
    bad.writeUInt32BE(0, 4);
    assert.equal(classifyPacket(bad), 'unknown');
    assert.equal(parseStun(bad), null);
  });

  test('garbage datagrams: classification is total and fast, STUN attribute walk is bounded', () => {
    let seed = 99;
    const rnd = (m: number): number => ((seed = (seed * 48271) % 0x7fffffff) % m);
    const start = process.cpuUsage(); // CPU, not wall time: a busy machine must not fail it
    const counts: Record<string, number> = {};
    for (let i = 0; i < 50_000; i++) {
      const b = Buffer.from(Array.from({ length: rnd(200) }, () => rnd(256)));
      if (rnd(4) === 0 && b.length >= 20) {
        b[0] = 0;
        b[1] = 1;
        b.writeUInt32BE(0x2112a442, 4);
        b.writeUInt16BE(b.length - 20 - ((b.length - 20) % 4), 2);
      }
      const c = classifyPacket(b);
      counts[c] = (counts[c] ?? 0) + 1;
      if (c === 'stun') parseStun(b);
    }
    assert.ok(cpuMsSince(start) < 3000);
    assert.ok((counts.unknown ?? 0) > 0 && (counts.rtp ?? 0) > 0);
  });

  test('RFC 4571 framing survives any chunking; a zero-length frame is an error', () => {
    const packets = [stunBinding('a:b'), Buffer.alloc(1200, 7), Buffer.alloc(1, 1), Buffer.alloc(65535, 3)];
    const stream = Buffer.concat(packets.map(frameRfc4571));
    for (const step of [1, 2, 3, 7, 1000, stream.length]) {
      const d = new Rfc4571Deframer();
      const out: Buffer[] = [];
      for (let o = 0; o < stream.length; o += step) out.push(...d.push(stream.subarray(o, o + step)));
      assert.deepEqual(out.map((b) => b.length), packets.map((b) => b.length));
      assert.ok(out[1]!.equals(packets[1]!));
    }
    assert.throws(() => new Rfc4571Deframer().push(Buffer.from([0, 0, 1])), RtpError);
    assert.throws(() => frameRfc4571(Buffer.alloc(70000)), RtpError);
  });
});

describe('Ogg Opus', () => {
  test('writer → reader round trip with CRC, any chunking', () => {
    const w = new OggOpusWriter();
    const pkts = [Buffer.from([0x78, 1, 2, 3]), Buffer.alloc(300, 0x78), Buffer.alloc(255, 0x78), Buffer.alloc(510, 0x78)];
    const bytes = Buffer.concat([w.headers(2), ...pkts.map((p) => w.packet(p, 960))]);
    // Every page's CRC checks out.
    for (let o = 0; o < bytes.length; ) {
      const segs = bytes[o + 26]!;
      let size = 0;
      for (let i = 0; i < segs; i++) size += bytes[o + 27 + i]!;
      const page = Buffer.from(bytes.subarray(o, o + 27 + segs + size));
      const crc = page.readUInt32LE(22);
      page.writeUInt32LE(0, 22);
      assert.equal(oggCrc(page), crc);
      o += 27 + segs + size;
    }
    for (const step of [1, 13, bytes.length]) {
      const r = new OggReader();
      const out = [];
      for (let o = 0; o < bytes.length; o += step) out.push(...r.push(bytes.subarray(o, o + step)));
      assert.equal(out.length, 2 + pkts.length);
      assert.equal(out[0]!.data.subarray(0, 8).toString(), 'OpusHead');
      assert.deepEqual(out.slice(2).map((p) => p.data.length), pkts.map((p) => p.length));
      assert.deepEqual(out.slice(2).map((p) => p.granule), [960, 1920, 2880, 3840]);
    }
    assert.throws(() => new OggReader().push(Buffer.from('NotOggS at all, more than 27 bytes here......')), RtpError);
  });

  test('Opus packet durations from the TOC byte', () => {
    assert.equal(opusPacketSamples(Buffer.from([0x78])), 960); // config 15 (hybrid FB 20 ms), code 0
    assert.equal(opusPacketSamples(Buffer.from([0xf8 | 1])), 960 * 2); // CELT FB 20 ms, 2 frames
    assert.equal(opusPacketSamples(Buffer.from([0x03 | (1 << 3), 3])), 960 * 3); // SILK NB 20 ms, code 3, 3 frames
    assert.throws(() => opusPacketSamples(Buffer.alloc(0)), RtpError);
  });
});

const CHROME_OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:Ab12', 'a=mid:0', 'a=sendonly', 'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=rtpmap:63 red/48000/2', 'a=ssrc:1111 cname:x',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 102 103 108 45', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=sendonly', 'a=rtcp-mux',
  'a=rtpmap:96 VP8/90000', 'a=rtpmap:102 H264/90000', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 H264/90000', 'a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=rtpmap:108 H264/90000', 'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:45 AV1/90000', 'a=rtcp-fb:* nack', 'a=ssrc:2222 cname:x', 'a=ssrc:3333 cname:x', '',
].join('\r\n');

describe('SDP', () => {
  test('parses a browser offer and picks H.264 packetization-mode 1 and Opus', () => {
    const s = parseSdp(CHROME_OFFER);
    assert.deepEqual(s.bundle, ['0', '1']);
    assert.equal(s.iceUfrag, 'Ab12');
    const [a, v] = s.media;
    assert.equal(a!.direction, 'sendonly');
    assert.ok(a!.rtcpMux);
    assert.deepEqual(a!.ssrcs, [1111]);
    assert.equal(chooseCodec(a!, 'opus')?.payloadType, 111);
    assert.equal(chooseH264(v!)?.payloadType, 108, 'constrained baseline, mode 1');
    assert.equal(chooseH264(v!, '64')?.payloadType, 108);
    assert.equal(chooseCodec(v!, 'AV1')?.payloadType, 45);
    assert.deepEqual(v!.codecs.find((c) => c.payloadType === 96)!.rtcpFb, ['nack']);
    assert.deepEqual(v!.ssrcs, [2222, 3333]);
  });

  test('candidate replacement and hostile input', () => {
    const ans = replaceCandidates('v=0\r\nm=audio 9 X 111\r\na=candidate:1 1 UDP 1 10.0.0.1 5 typ host\r\na=end-of-candidates\r\nm=video 9 X 96\r\na=mid:1\r\n', ['candidate:9 1 udp 1 1.2.3.4 8000 typ host']);
    assert.equal(ans.match(/a=candidate:9 /g)?.length, 2);
    assert.ok(!ans.includes('10.0.0.1'));
    assert.throws(() => parseSdp('x=1'), RtpError);
    assert.throws(() => parseSdp('v=0\r\n' + 'a'.repeat(70_000)), RtpError);
    assert.throws(() => parseSdp('v=0\r\n' + 'm=audio 9 X 0\r\n'.repeat(20)), RtpError);
    let seed = 3;
    const rnd = (m: number): number => ((seed = (seed * 48271) % 0x7fffffff) % m);
    for (let i = 0; i < 3000; i++) {
      const chars = CHROME_OFFER.split('');
      for (let k = rnd(20); k > 0; k--) chars[rnd(chars.length)] = String.fromCharCode(rnd(128));
      try {
        parseSdp(chars.join(''));
      } catch (err) {
        assert.ok(err instanceof RtpError, String(err));
      }
    }
  });
});
