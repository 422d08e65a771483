/**
 * A WHEP player waiting for its first keyframe asks the producer again every
 * second (the join PLI may be lost, or answered by a keyframe that passed
 * before the player was added, and the browser asks for nothing while it has
 * seen no video); once a keyframe has passed it stops asking and forwards.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerConnection, Track } from 'node-datachannel';
import { RtcPlaySession } from '../../src/servers/webrtc/rtc-play-session.js';
import { RtcStream, type RtcProducer } from '../../src/servers/webrtc/rtc-stream.js';
import { silentLogger } from '../../src/log/logger.js';

function rtpPacket(seq: number, payload: Buffer, padded = false): Buffer {
  const b = Buffer.concat([Buffer.alloc(12), payload]);
  b[0] = padded ? 0xa0 : 0x80;
  b[1] = 102;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 3000, 4);
  b.writeUInt32BE(0xabcdef, 8);
  return b;
}

function h264Packet(seq: number, nalHeader: number): Buffer {
  const payload = Buffer.alloc(20, 0x11);
  payload[0] = nalHeader;
  return rtpPacket(seq, payload);
}

/** A stream with an RTC producer, and a connected H.264 player on it whose sends are collected in `sent`. */
function connectedPlayer(onKeyframeAsk: () => void = () => undefined): { stream: RtcStream; s: RtcPlaySession; sent: Buffer[] } {
  const stream = new RtcStream('v', 'live', 's', () => Date.now());
  const producer: RtcProducer = { id: 'p', kind: 'rtc', requestKeyframe: onKeyframeAsk };
  stream.setProducer(producer, { codec: 'H264', clockRate: 90000, fmtp: '' }, null);
  const sent: Buffer[] = [];
  const track = { onMessage: () => undefined, sendMessageBinary: (b: Buffer) => sent.push(Buffer.from(b)) } as unknown as Track;
  let onState: (s: string) => void = () => undefined;
  const pc = { onStateChange: (cb: (s: string) => void) => (onState = cb), close: () => undefined, bytesReceived: () => 0, bytesSent: () => 0 } as unknown as PeerConnection;
  const s = new RtcPlaySession({ id: 'x', ip: '127.0.0.1', vhost: 'v', app: 'live', stream: 's', param: '', tcUrl: '', pageUrl: '', log: silentLogger() });
  s.start(pc, [{ kind: 'video', mid: '0', payloadType: 96, format: { codec: 'H264', clockRate: 90000, fmtp: '' }, track, ssrc: 42, remoteSsrcs: [] }], stream, 30_000);
  onState('connected');
  return { stream, s, sent };
}

test('a player waiting for a keyframe re-asks every second, then stops once one passed', () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    let asked = 0;
    const { stream, s, sent } = connectedPlayer(() => asked++);
    assert.equal(asked, 1, 'joining asks once');

    // 3 s of delta frames (NAL type 1) every 40 ms: one more request per second.
    let seq = 1;
    for (let t = 0; t < 3000; t += 40) {
      mock.timers.tick(40);
      const p = h264Packet(seq++, 0x41);
      stream.onRtp('video', p);
    }
    assert.equal(sent.length, 0, 'nothing is sent before a keyframe');
    assert.ok(asked >= 3 && asked <= 4, `asked ${asked} times in 3 s`);

    const idr = h264Packet(seq++, 0x65);
    stream.onRtp('video', idr);
    const before = asked;
    for (let t = 0; t < 3000; t += 40) {
      mock.timers.tick(40);
      const p = h264Packet(seq++, 0x41);
      stream.onRtp('video', p);
    }
    assert.equal(asked, before, 'no more requests once a keyframe passed');
    assert.equal(sent.length, 1 + 75, 'the keyframe and everything after it are forwarded');
    assert.equal(sent[0]![12], 0x65);
    assert.equal(sent[0]!.readUInt32BE(8), 42, 'with the player SSRC');
    s.close('test over');
  } finally {
    mock.timers.reset();
  }
});

/** A padding-only packet (P bit, the payload is all padding): what a browser probes bandwidth with. */
function paddingPacket(seq: number): Buffer {
  const padding = Buffer.alloc(200);
  padding[199] = 200;
  return rtpPacket(seq, padding, true);
}

test('padding-only packets (bandwidth probes) are not forwarded, and the player\'s sequence numbers stay gap-free', () => {
  const { stream, s, sent } = connectedPlayer();
  // From near the top of the sequence space, so that the numbering wraps on the way.
  let seq = 65530;
  const next = (): number => (seq++ & 0xffff);
  stream.onRtp('video', h264Packet(next(), 0x65));
  for (let i = 0; i < 30; i++) {
    stream.onRtp('video', h264Packet(next(), 0x41));
    if (i % 3 === 0) for (let k = 0; k < 4; k++) stream.onRtp('video', paddingPacket(next()));
  }
  // A late packet from before the last probe keeps the number it would have had.
  const lateSrc = (seq - 7) & 0xffff; // the media packet sent just before the last 4 paddings (then 2 more media)
  stream.onRtp('video', h264Packet(lateSrc, 0x41));
  assert.equal(sent.length, 31 + 1, 'media packets only (and the late one)');
  for (const p of sent) assert.equal(p[12] !== 0, true, 'no padding-only packet went out');
  const out = sent.map((p) => p.readUInt16BE(2));
  for (let i = 1; i < 31; i++) assert.equal(out[i], (out[i - 1]! + 1) & 0xffff, `gap-free at ${i}: ${out.slice(0, 31).join(',')}`);
  assert.equal(out[31], out[28], 'the late packet gets the number its first copy had');
  s.close('test over');
});
