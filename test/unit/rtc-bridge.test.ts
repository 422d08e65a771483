/**
 * The RTC hub and both bridges without a network: RTP from a packetizer goes
 * through RtcToRtmpBridge into a LiveSource (H.264 frames with an AVC config
 * record, timestamps in ms, lossy input repaired at the next IDR), and frames
 * published into a LiveSource come out of RtmpToRtcBridge as RTP packets in
 * an RtcStream (SPS/PPS before the IDR, players rewriting per player).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LiveSource, type Publisher } from '../../src/live/live-source.js';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { parseAvcDecoderConfig } from '../../src/codec/h264.js';
import { silentLogger } from '../../src/log/logger.js';
import { H264Packetizer } from '../../src/protocol/rtp/h264-packetizer.js';
import { parseRtpHeader, type RtpHeader } from '../../src/protocol/rtp/rtp-packet.js';
import { RtcToRtmpBridge } from '../../src/servers/webrtc/rtc-to-rtmp-bridge.js';
import { buildAvcDecoderConfig as avcConfigRecord } from '../../src/codec/h264.js';
import { RtmpToRtcBridge } from '../../src/servers/webrtc/rtmp-to-rtc-bridge.js';
import { RtcStream, type RtcPlayer, type MediaKind, type RtcProducer } from '../../src/servers/webrtc/rtc-stream.js';
import { RTP_VIDEO } from '../../src/servers/webrtc/rtp-form.js';
import { ProcessRegistry } from '../../src/ffmpeg/child-supervisor.js';

const ffmpeg = { processes: new ProcessRegistry(), logFile: null, log: silentLogger() };

const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8]);
const PPS = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
const cfg = { gopCache: true, gopCacheMaxFrames: 2500, timeJitter: 'off' as const, republishWaitMs: 100 };
const publisher: Publisher = { id: 'p', kick: () => undefined };

function slice(type: number, size: number, seed: number): Buffer {
  const b = Buffer.alloc(size, seed & 0xff);
  b[0] = (type === 5 ? 0x60 : 0x40) | type;
  return b;
}

describe('RTC → RTMP bridge', () => {
  test('RTP H.264 becomes AVC frames in the source; a loss is repaired at the next IDR', () => {
    const source = new LiveSource('v', 'live', 's', cfg);
    assert.ok(source.publish(publisher));
    const frames: MediaFrame[] = [];
    source.observers.add({ onFrame: (_s, f) => frames.push(f) });
    let t = 0;
    let nacks: number[] = [];
    let plis = 0;
    const bridge = new RtcToRtmpBridge({ source, videoCodec: 'H264', hasAudio: false, aacBitrate: 48000, pliIntervalMs: 0, requestKeyframe: () => plis++, sendNack: (s) => (nacks = nacks.concat(s)), log: silentLogger(), now: () => t, ffmpeg, label: '/live/x' });
    try {
      const p = new H264Packetizer({ ssrc: 5, payloadType: 102, maxPayload: 400 });
      const feed = (nalus: Buffer[], ts: number, drop = -1): void => {
        p.packetize(nalus, ts).forEach((pk, i) => {
          if (i === drop) return;
          bridge.onRtp('video', pk, parseRtpHeader(pk));
        });
      };
      feed([SPS, PPS, slice(5, 3000, 1)], 90_000);
      t += 40;
      feed([slice(1, 900, 2)], 93_600);
      t += 40;
      feed([slice(1, 900, 3)], 97_200, 1); // one fragment lost
      t += 40;
      feed([slice(1, 900, 4)], 100_800);
      t += 200; // the gap times out in the jitter buffer
      feed([SPS, PPS, slice(5, 3000, 5)], 104_400);
      const header = frames.find((f) => f.header)!;
      assert.ok(header, 'an AVC sequence header frame');
      const rec = parseAvcDecoderConfig(header.payload);
      assert.ok(rec.sps[0]!.equals(SPS) && rec.pps[0]!.equals(PPS));
      const media = frames.filter((f) => !f.header);
      assert.deepEqual(media.map((f) => f.keyframe), [true, false, true]);
      // 40 ms apart on the RTP clock (3600 ticks), then the IDR 3 frames later.
      assert.equal(media[1]!.dts - media[0]!.dts, 40);
      assert.equal(media[2]!.dts - media[0]!.dts, 160);
      // Payload: 4-byte length-prefixed NAL units without SPS/PPS.
      assert.equal(media[0]!.payload.readUInt32BE(0), 3000);
      assert.equal(media[0]!.payload.length, 3004);
      assert.ok(plis >= 1, 'a PLI was asked after the loss');
      t += 50;
    } finally {
      bridge.stop();
    }
    assert.equal(avcConfigRecord(SPS, PPS)[4], 0xff);
  });
});

class FakePlayer implements RtcPlayer {
  readonly got: { kind: MediaKind; seq: number; ts: number; payload: Buffer }[] = [];
  producers = 0;
  constructor(readonly id: string) {}
  onRtp(kind: MediaKind, pkt: Buffer, h: RtpHeader): void {
    this.got.push({ kind, seq: h.sequence, ts: h.timestamp, payload: Buffer.from(pkt.subarray(h.payloadOffset, h.payloadEnd)) });
    pkt.writeUInt32BE(0xdeadbeef, 8); // a player may rewrite the shared header in place
  }
  onProducer(): void {
    this.producers++;
  }
  close(): void {}
}

describe('RTMP → RTC bridge and RtcStream', () => {
  test('frames become RTP once per stream; SPS/PPS lead the IDR; old GOP is skipped', () => {
    const source = new LiveSource('v', 'live', 'b', cfg);
    assert.ok(source.publish(publisher));
    const avcc = (nalus: Buffer[]): Buffer => Buffer.concat(nalus.flatMap((n) => { const l = Buffer.alloc(4); l.writeUInt32BE(n.length); return [l, n]; }));
    source.onFrame(new MediaFrame('video', 'H264', 0, 0, true, true, avcConfigRecord(SPS, PPS), null));
    source.onFrame(new MediaFrame('video', 'H264', 0, 0, true, false, avcc([slice(5, 2000, 1)]), null));
    const stream = new RtcStream('v', 'live', 'b');
    const bridge = new RtmpToRtcBridge('br', source, stream, { opusBitrate: 48000, keepBframe: false, keepSei: true, consumer: { queueLengthMs: 10_000, mwLatencyMs: 0 }, isRtcPublisher: () => false, log: silentLogger(), ffmpeg, label: '/live/x' });
    const a = new FakePlayer('a');
    const b = new FakePlayer('b');
    stream.addPlayer(a);
    stream.addPlayer(b);
    assert.ok(bridge.start());
    assert.equal(a.producers, 1);
    source.onFrame(new MediaFrame('video', 'H264', 40, 40, false, false, avcc([slice(1, 500, 2)]), null));
    const idrFrame = new MediaFrame('video', 'H264', 80, 80, true, false, avcc([slice(5, 2500, 3)]), null);
    source.onFrame(idrFrame);
    // A non-reference B slice (nal_ref_idc 0, slice_type 1) is dropped.
    source.onFrame(new MediaFrame('video', 'H264', 120, 160, false, false, avcc([Buffer.from([0x01, 0b10100000, 0, 0])]), null));
    for (const c of source.consumers) c.flush();
    assert.equal(a.got.length, b.got.length, 'every player sees every packet');
    assert.equal(a.got[0]!.ts, 40 * 90, 'the GOP present at attach time is not replayed');
    const idr = a.got.filter((g) => g.ts === 80 * 90);
    assert.equal(idr[0]!.payload[0]! & 0x1f, 24, 'STAP-A with SPS/PPS first');
    assert.ok(idr.length >= 3, 'FU-A fragments follow');
    assert.equal(bridge.bframesDropped, 1);
    assert.equal(idrFrame.wire(RTP_VIDEO)?.length, idr.length, "the frame's RTP form holds its packets, made once");
    // A second RTP egress of the same source takes the frame's packets, it does not packetize again.
    const other = new RtcStream('v', 'live', 'b');
    const c = new FakePlayer('c');
    other.addPlayer(c);
    const again = new RtmpToRtcBridge('br2', source, other, { opusBitrate: 48000, keepBframe: false, keepSei: true, consumer: { queueLengthMs: 10_000, mwLatencyMs: 0 }, isRtcPublisher: () => false, log: silentLogger(), ffmpeg, label: '/live/x' });
    const packets = idrFrame.wire(RTP_VIDEO);
    again.encode(idrFrame);
    assert.equal(idrFrame.wire(RTP_VIDEO), packets);
    assert.equal(c.got.length, idr.length);
    assert.equal(again.videoPackets, idr.length);
    // Sequence numbers are contiguous.
    for (let i = 1; i < a.got.length; i++) assert.equal(a.got[i]!.seq, (a.got[i - 1]!.seq + 1) & 0xffff);
    bridge.stop();
    assert.equal(stream.producer, null);
    assert.equal(source.consumers.size, 0);
  });

  test('keyframe requests reach the producer at most every 500 ms; a second producer is refused', () => {
    let t = 0;
    const stream = new RtcStream('v', 'a', 's', () => t);
    let asked = 0;
    const p1: RtcProducer = { id: '1', kind: 'rtc', requestKeyframe: () => asked++ };
    assert.ok(stream.setProducer(p1, null, null));
    assert.ok(!stream.setProducer({ id: '2', kind: 'rtc', requestKeyframe: () => undefined }, null, null));
    for (let i = 0; i < 10; i++) {
      stream.requestKeyframe();
      t += 100;
    }
    assert.equal(asked, 2);
    stream.onRtp('video', Buffer.from([1, 2, 3]));
    assert.equal(stream.packetsIn, 0, 'garbage is not forwarded');
  });
});
