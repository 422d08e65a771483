/**
 * Simulcast pieces without a browser: RFC 8285 header extensions, the
 * offer's layers and the answer lines (RFC 8853/8851), the one-section
 * offer and the answer grown back, the router that places a packet in its
 * section and layer, and a WHEP player that switches layers at a keyframe
 * while its sequence numbers and timestamps continue.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerConnection, Track } from 'node-datachannel';
import { rtpExtension, rtpExtensionText } from '../../src/protocol/rtp/rtp-extensions.js';
import { parseMediaRouting, simulcastAnswerLines, MID_URI, RID_URI, RRID_URI } from '../../src/protocol/rtp/simulcast-sdp.js';
import { answerWithSections, offerWithOneSection } from '../../src/protocol/rtp/sdp-one-section.js';
import { parseRtpHeader } from '../../src/protocol/rtp/rtp-packet.js';
import { PublishRouter } from '../../src/servers/webrtc/rtc-publish-router.js';
import type { NegotiatedTrack } from '../../src/servers/webrtc/rtc-peer.js';
import { RtcPlaySession } from '../../src/servers/webrtc/rtc-play-session.js';
import { RtcStream, type RtcProducer } from '../../src/servers/webrtc/rtc-stream.js';
import { silentLogger } from '../../src/log/logger.js';

/** An RTP packet with one-byte header extensions (id → ASCII value) and a 1-byte H.264 payload. */
function packet(o: { pt?: number; seq: number; ts?: number; ssrc: number; ext?: Record<number, string>; nal?: number }): Buffer {
  const elems: Buffer[] = [];
  for (const [id, v] of Object.entries(o.ext ?? {})) elems.push(Buffer.concat([Buffer.from([(Number(id) << 4) | (v.length - 1)]), Buffer.from(v, 'latin1')]));
  let ext = Buffer.concat(elems);
  if (ext.length % 4) ext = Buffer.concat([ext, Buffer.alloc(4 - (ext.length % 4))]);
  const head = Buffer.alloc(12);
  head[0] = ext.length ? 0x90 : 0x80;
  head[1] = o.pt ?? 102;
  head.writeUInt16BE(o.seq & 0xffff, 2);
  head.writeUInt32BE((o.ts ?? o.seq * 3000) >>> 0, 4);
  head.writeUInt32BE(o.ssrc, 8);
  const extHead = Buffer.alloc(ext.length ? 4 : 0);
  if (ext.length) {
    extHead.writeUInt16BE(0xbede, 0);
    extHead.writeUInt16BE(ext.length / 4, 2);
  }
  return Buffer.concat([head, extHead, ext, Buffer.from([o.nal ?? 0x41, 0x11, 0x22])]);
}

test('RFC 8285 extensions: one-byte and two-byte forms, padding, absent and malformed blocks', () => {
  const p = packet({ seq: 1, ssrc: 5, ext: { 4: '1', 10: 'hi' } });
  assert.equal(rtpExtensionText(p, 4), '1');
  assert.equal(rtpExtensionText(p, 10), 'hi');
  assert.equal(rtpExtension(p, 11), null);
  assert.equal(rtpExtension(packet({ seq: 1, ssrc: 5 }), 4), null, 'no X bit');
  // Two-byte form (0x1000): id, length, value; a zero byte is padding.
  const two = Buffer.concat([Buffer.from([0x90, 102, 0, 1, 0, 0, 0, 1, 0, 0, 0, 5, 0x10, 0x00, 0, 2]), Buffer.from([0, 10, 3, 0x61, 0x62, 0x63, 0, 0]), Buffer.from([0x41])]);
  assert.equal(rtpExtensionText(two, 10), 'abc');
  const cut = Buffer.from(p.subarray(0, 18));
  cut.writeUInt16BE(8, 14); // claims 32 bytes of extension in an 18-byte packet
  assert.equal(rtpExtension(cut, 4), null, 'a block longer than the packet reads as absent');
  const lying = Buffer.from(p);
  lying[16] = (4 << 4) | 15; // element of 16 bytes overruns the block
  assert.equal(rtpExtension(lying, 10), null);
});

const OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=extmap-allow-mixed',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789012345678901', 'a=setup:actpass', 'a=mid:0',
  `a=extmap:4 ${MID_URI}`, 'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', 'a=ssrc:1111 cname:x',
  'm=video 9 UDP/TLS/RTP/SAVPF 102', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789012345678901', 'a=setup:actpass', 'a=mid:1',
  `a=extmap:4 ${MID_URI}`, `a=extmap:10 ${RID_URI}`, `a=extmap:11/sendonly ${RRID_URI}`, 'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:102 H264/90000',
  'a=rid:h send', 'a=rid:m send', 'a=rid:l send', 'a=rid:bad$ send', 'a=simulcast:send h;~m,x;l;undeclared',
].join('\r\n') + '\r\n';

test('the offer\'s layers and extension IDs; the answer accepts them', () => {
  const r = parseMediaRouting(OFFER);
  assert.deepEqual(r.map((x) => x.mid), ['0', '1']);
  assert.deepEqual(r[0], { mid: '0', rids: [], midExt: 4, ridExt: 0, rridExt: 0 });
  assert.deepEqual(r[1], { mid: '1', rids: ['h', 'm', 'l'], midExt: 4, ridExt: 10, rridExt: 11 }, 'the paused ~m counts, alternatives after "," and undeclared rids do not');
  assert.deepEqual(simulcastAnswerLines(r[1]!), [`a=extmap:4 ${MID_URI}`, `a=extmap:10 ${RID_URI}`, `a=extmap:11 ${RRID_URI}`, 'a=rid:h recv', 'a=rid:m recv', 'a=rid:l recv', 'a=simulcast:recv h;m;l']);
  assert.deepEqual(simulcastAnswerLines(r[0]!), [], 'no simulcast, no lines');
});

test('one section for libdatachannel, all of them in the answer, in offer order', () => {
  const one = offerWithOneSection(OFFER, '1');
  assert.equal(one.match(/^m=/gm)?.length, 1);
  assert.match(one, /a=group:BUNDLE 1\r\n/);
  assert.match(one, /a=mid:1/);
  assert.doesNotMatch(one, /a=mid:0/);
  const lib = ['v=0', 'o=rtc 1 0 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 1', 'a=group:LS 1', 'a=fingerprint:sha-256 AA:BB',
    'm=video 4000 UDP/TLS/RTP/SAVPF 102', 'c=IN IP4 127.0.0.1', 'a=mid:1', 'a=recvonly', 'a=rtcp-mux', 'a=setup:active', 'a=ice-ufrag:srv1', 'a=ice-pwd:srvpwd',
    'a=candidate:1 1 udp 2130706431 127.0.0.1 4000 typ host', 'a=end-of-candidates', 'a=rtpmap:102 H264/90000'].join('\r\n') + '\r\n';
  const audio = 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n';
  const full = answerWithSections(lib, ['0', '1'], new Map([['0', audio]]));
  const sections = full.split(/\r\n(?=m=)/);
  assert.match(sections[0]!, /a=group:BUNDLE 0 1$/m);
  assert.doesNotMatch(sections[0]!, /group:LS/);
  assert.match(sections[1]!, /^m=audio 4000 /, 'the audio section takes the shared port');
  assert.match(sections[1]!, /c=IN IP4 127.0.0.1/);
  for (const l of ['a=setup:active', 'a=ice-ufrag:srv1', 'a=ice-pwd:srvpwd', 'a=end-of-candidates']) assert.ok(sections[1]!.includes(l), `audio has ${l}`);
  assert.match(sections[2]!, /^m=video 4000 .*a=mid:1/s);
});

function track(kind: 'audio' | 'video', mid: string, pt: number, ssrcs: number[], rids: string[]): NegotiatedTrack {
  return { kind, mid, payloadType: pt, format: { codec: kind === 'video' ? 'H264' : 'opus', clockRate: kind === 'video' ? 90000 : 48000, fmtp: '' }, track: {} as Track, ssrc: 0, remoteSsrcs: ssrcs, routing: { mid, rids, midExt: 4, ridExt: 10, rridExt: 11 } };
}

test('the router places packets of a shared track by MID, SSRC or payload type, and layers by RID', () => {
  const r = new PublishRouter([track('audio', '0', 111, [1111], []), track('video', '1', 102, [], ['h', 'm', 'l'])], true);
  const at = (p: Buffer): string => {
    const x = r.route(null, p, parseRtpHeader(p));
    return x ? `${x.kind}/${x.layer}${x.repair ? '/rtx' : ''}` : 'none';
  };
  assert.equal(at(packet({ pt: 111, seq: 1, ssrc: 1111 })), 'audio/0', 'offered SSRC');
  assert.equal(at(packet({ seq: 1, ssrc: 7, ext: { 4: '1', 10: 'm' } })), 'video/1');
  assert.equal(at(packet({ seq: 2, ssrc: 7 })), 'video/1', 'remembered by SSRC once the RID stops coming');
  assert.equal(at(packet({ seq: 1, ssrc: 8, ext: { 4: '1', 10: 'l' } })), 'video/2');
  assert.equal(at(packet({ seq: 1, ssrc: 9, ext: { 4: '1', 11: 'h' } })), 'video/0/rtx', 'a repaired RID is the layer\'s RTX');
  assert.equal(at(packet({ seq: 1, ssrc: 10 })), 'none', 'a video SSRC without a RID cannot be placed (yet)');
  assert.equal(at(packet({ seq: 1, ssrc: 10, ext: { 10: 'zz' } })), 'none', 'an unknown RID is refused');
  assert.equal(at(packet({ pt: 111, seq: 1, ssrc: 12 })), 'audio/0', 'else the payload type');
  assert.deepEqual(r.layers, ['h', 'm', 'l']);
});

test('a player gets its layer, switches at the next keyframe of another, with continuous sequence and timestamps', () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    let t = 0;
    const stream = new RtcStream('v', 'live', 's', () => t);
    const asked: number[] = [];
    const producer: RtcProducer = { id: 'p', kind: 'rtc', requestKeyframe: (l) => asked.push(l ?? -1) };
    stream.setProducer(producer, { codec: 'H264', clockRate: 90000, fmtp: '' }, null, ['h', 'l']);
    const sent: Buffer[] = [];
    const tr = { onMessage: () => undefined, sendMessageBinary: (b: Buffer) => sent.push(Buffer.from(b)) } as unknown as Track;
    let onState: (s: string) => void = () => undefined;
    const pc = { onStateChange: (cb: (s: string) => void) => (onState = cb), close: () => undefined, bytesReceived: () => 0, bytesSent: () => 0 } as unknown as PeerConnection;
    const s = new RtcPlaySession({ id: 'x', ip: '127.0.0.1', vhost: 'v', app: 'live', stream: 's', param: '', tcUrl: '', pageUrl: '', log: silentLogger() });
    s.wantLayer = 'l';
    s.start(pc, [{ kind: 'video', mid: '0', payloadType: 96, format: { codec: 'H264', clockRate: 90000, fmtp: '' }, track: tr, ssrc: 42, remoteSsrcs: [] }], stream, 30_000);
    onState('connected');
    // Layer h (index 0): ssrc 100, seq from 1000, ts base 0; layer l (index 1): ssrc 200, seq from 5000, ts base 77777.
    let hSeq = 1000;
    let lSeq = 5000;
    const frame = (i: number, key: boolean): void => {
      t += 40;
      mock.timers.tick(40);
      stream.onRtp('video', packet({ seq: hSeq++, ts: i * 3600, ssrc: 100, nal: key ? 0x65 : 0x41 }), 0);
      stream.onRtp('video', packet({ seq: lSeq++, ts: 77777 + i * 3600, ssrc: 200, nal: key ? 0x65 : 0x41 }), 1);
    };
    frame(0, false);
    assert.equal(sent.length, 0, 'no keyframe yet');
    frame(1, true);
    for (let i = 2; i < 10; i++) frame(i, false);
    assert.equal(sent.length, 9, 'only layer l from its keyframe on');
    assert.equal(sent[0]![sent[0]!.length - 3], 0x65);
    assert.ok(sent.every((p) => p.readUInt32BE(8) === 42), 'with the player SSRC');

    s.wantLayer = 'h';
    frame(10, false);
    assert.equal(sent.length, 10, 'l goes on until h has a keyframe');
    assert.equal(asked.at(-1), 0, 'and h is asked for one');
    frame(11, true);
    frame(12, false);
    assert.equal(sent.length, 12);
    assert.equal(s.layerSwitches, 1);
    const seqs = sent.map((p) => p.readUInt16BE(2));
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1]! + 1) & 0xffff, 'sequence numbers continue across the switch');
    const ts = sent.map((p) => p.readUInt32BE(4));
    const step = (ts[10]! - ts[9]!) >>> 0;
    assert.ok(step > 0 && step <= 3600 * 2, `the timeline continues (step ${step} at the switch)`);
    assert.equal((ts[11]! - ts[10]!) >>> 0, 3600, 'and follows the new layer\'s clock after it');
    s.close('test over');
  } finally {
    mock.timers.reset();
  }
});

test('the top layer is the one with the most bytes per second, with some hysteresis', () => {
  let t = 0;
  const stream = new RtcStream('v', 'live', 's', () => t);
  stream.setProducer({ id: 'p', kind: 'rtc', requestKeyframe: () => undefined }, null, null, ['h', 'm', 'l']);
  const send = (layer: number, bytes: number): void => stream.onRtp('video', Buffer.concat([packet({ seq: 1, ssrc: 1 }), Buffer.alloc(bytes)]), layer);
  send(2, 100);
  assert.equal(stream.topLayer(), 2, 'the first layer heard from (browsers start low)');
  for (let i = 0; i < 10; i++) {
    t += 110;
    send(2, 100);
    send(0, 1000);
  }
  assert.equal(stream.topLayer(), 0);
  for (let i = 0; i < 10; i++) {
    t += 110;
    send(0, 1000);
    send(1, 1100);
  }
  assert.equal(stream.topLayer(), 0, 'a layer 10 % bigger does not take over');
});

test('a layer the bridge does not take has its losses NACKed, once per interval, and forgotten once late', async () => {
  const { LayerNack } = await import('../../src/servers/webrtc/rtc-layer-nack.js');
  const n = new LayerNack();
  for (const s of [10, 11, 14, 15]) n.onPacket(1, s, 0);
  assert.deepEqual(n.missing(1, 1), [12, 13]);
  assert.deepEqual(n.missing(1, 5), [], 'not again within the NACK interval');
  n.onPacket(1, 12, 6);
  assert.deepEqual(n.missing(1, 60), [13], 'a retransmission fills its gap');
  assert.deepEqual(n.missing(1, 400), [], 'given up after the reorder window');
  assert.deepEqual(n.missing(0, 400), [], 'a layer never seen has nothing to ask');
});
