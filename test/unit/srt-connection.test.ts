/**
 * The connection state machine on a simulated clock: two SrtConnections
 * joined by an in-memory link that drops, delays and reorders datagrams by a
 * seeded schedule. Asserts what a player would see: every payload, in order,
 * no earlier than its send time plus the latency.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SrtConnection, type SrtConnectionOptions } from '../../src/protocol/srt/srt-connection.js';
import { randomBytes } from 'node:crypto';
import { ControlType, buildControlPacket, buildDataPacket, parsePacket, type SrtPacket } from '../../src/protocol/srt/srt-packet.js';
import { buildKeyMaterial, cryptPayload, newKeyMaterial, wrapKeys } from '../../src/protocol/srt/srt-key-material.js';

function options(over: Partial<SrtConnectionOptions> = {}): SrtConnectionOptions {
  return {
    localSocketId: 1,
    peerSocketId: 2,
    peerInitialSeq: 0x7ffffff0, // wraps during the test
    initialSeq: 0x7ffffff0,
    recvLatencyUs: 200_000,
    sendLatencyUs: 200_000,
    tsbpd: true,
    tlpktdrop: true,
    peerFlowWindow: 8192,
    recvBufferPackets: 8192,
    sendBufferPackets: 8192,
    peerIdleTimeoutUs: 10_000_000,
    keys: null,
    startUs: 0,
    peerStartUs: 0,
    ...over,
  };
}

/** Mulberry32: a small seeded PRNG, so a failure replays. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Link {
  loss: number;
  minDelayUs: number;
  jitterUs: number;
  /** Data sequence numbers never delivered, even when retransmitted. */
  blackhole?: Set<number>;
}

function simulate(link: Link, seed: number, payloads: number, over: Partial<SrtConnectionOptions> = {}) {
  const rand = rng(seed);
  const sender = new SrtConnection(options({ localSocketId: 1, peerSocketId: 2, ...over }), 0);
  const receiver = new SrtConnection(options({ localSocketId: 2, peerSocketId: 1, ...over }), 0);
  const inFlight: { at: number; to: SrtConnection; b: Buffer }[] = [];
  const delivered: { at: number; payload: Buffer }[] = [];
  const sentAt = new Map<number, number>();
  const carry = (from: SrtConnection, to: SrtConnection, now: number): void => {
    const out = from.take();
    for (const b of out.packets) {
      const p = parsePacket(b);
      if (!p.control && link.blackhole?.has(p.seq)) continue;
      if (rand() < link.loss) continue;
      inFlight.push({ at: now + link.minDelayUs + Math.floor(rand() * link.jitterUs), to, b });
    }
    if (from === receiver) for (const payload of out.payloads) delivered.push({ at: now, payload });
  };
  const end = payloads * 2000 + 1_000_000;
  for (let now = 0; now <= end; now += 1000) {
    if (now % 2000 === 0 && now / 2000 < payloads) {
      const i = now / 2000;
      const b = Buffer.alloc(188);
      b.writeUInt32BE(i, 0);
      sentAt.set(i, now);
      sender.send(b, now);
    }
    for (let k = inFlight.length - 1; k >= 0; k--) {
      const f = inFlight[k]!;
      if (f.at <= now) {
        inFlight.splice(k, 1);
        f.to.receive(parsePacket(f.b), now);
      }
    }
    sender.tick(now);
    receiver.tick(now);
    carry(sender, receiver, now);
    carry(receiver, sender, now);
  }
  return { sender, receiver, delivered, sentAt };
}

for (const seed of [1, 2, 3, 7]) {
  test(`lossy link (8% loss both ways, 5–30 ms delay, reordering; seed ${seed}), latency 200 ms: every payload in order, none early`, () => {
    const { sender, receiver, delivered, sentAt } = simulate({ loss: 0.08, minDelayUs: 5000, jitterUs: 25_000 }, seed, 1500);
    const ids = delivered.map((d) => d.payload.readUInt32BE(0));
    // A loss among the very last packets shows only when later ones come: a live stream always has them.
    const missing = [...sentAt.keys()].filter((i) => i < 1490 && !ids.includes(i));
    assert.deepEqual(missing, []);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
    for (const d of delivered) assert.ok(d.at >= sentAt.get(d.payload.readUInt32BE(0))! + 200_000 - 1000, 'not before its play time');
    assert.ok(sender.stats.packetsRetransmitted > 50, `retransmitted ${sender.stats.packetsRetransmitted}`);
    assert.ok(receiver.stats.packetsLost > 50);
    assert.equal(receiver.stats.packetsDropped, 0);
    assert.ok(receiver.stats.rttUs > 10_000 && receiver.stats.rttUs < 150_000, `rtt ${receiver.stats.rttUs}`);
  });
}

test('too-late packet drop: a packet that never arrives is skipped after the latency, the rest plays', () => {
  const { receiver, delivered } = simulate({ loss: 0, minDelayUs: 2000, jitterUs: 0, blackhole: new Set([(0x7ffffff0 + 50) & 0x7fffffff]) }, 1, 200);
  assert.equal(delivered.length, 199);
  assert.equal(receiver.stats.packetsDropped, 1);
});

test('without TSBPD payloads are delivered as soon as they are in order', () => {
  const { delivered, sentAt } = simulate({ loss: 0, minDelayUs: 1000, jitterUs: 0 }, 1, 50, { tsbpd: false });
  assert.equal(delivered.length, 50);
  assert.ok(delivered[0]!.at - sentAt.get(0)! < 5000);
});

test('a silent peer ends the connection after peer_idle_timeout; SHUTDOWN ends it at once', () => {
  const c = new SrtConnection(options({ peerIdleTimeoutUs: 1_000_000 }), 0);
  c.tick(900_000);
  assert.equal(c.closed, false);
  c.tick(1_100_000);
  assert.equal(c.closed, true);
  assert.match(c.take().events[0]!.type === 'closed' ? 'closed' : '', /closed/);
  const d = new SrtConnection(options(), 0);
  d.close('kick', 10);
  const out = d.take();
  const last = parsePacket(out.packets[out.packets.length - 1]!);
  assert.ok(last.control && last.type === ControlType.SHUTDOWN);
  assert.deepEqual(out.events, [{ type: 'closed', reason: 'kick' }]);
});

test('KEEPALIVE after a second of silence; a full ACK is answered with ACKACK', () => {
  const c = new SrtConnection(options(), 0);
  c.tick(1_000_000);
  const ka = c.take().packets.map((b) => parsePacket(b));
  assert.ok(ka.some((p) => p.control && p.type === ControlType.KEEPALIVE));
  const r = new SrtConnection(options({ localSocketId: 2, peerSocketId: 1 }), 0);
  const s = new SrtConnection(options(), 0);
  s.send(Buffer.alloc(188), 0);
  r.receive(parsePacket(s.take().packets[0]!), 1000);
  r.tick(20_000);
  const ack = r.take().packets.map((b) => parsePacket(b)).find((p) => p.control && p.type === ControlType.ACK)!;
  s.receive(ack, 21_000);
  assert.ok(s.take().packets.map((b) => parsePacket(b)).some((p) => p.control && p.type === ControlType.ACKACK));
});

test('maxbw caps the data sent: a 200-packet burst goes out at the configured rate, in order, control packets unpaced', () => {
  const rate = 100_000; // bytes/s
  // tlpktdrop off: nothing goes stale, every packet is sent.
  const s = new SrtConnection(options({ maxBwBytesPerSec: rate, sendBufferPackets: 1000, tlpktdrop: false }), 0);
  for (let i = 0; i < 200; i++) s.send(Buffer.alloc(1316, i & 0xff), 0);
  const sentAt: { t: number; seq: number; bytes: number }[] = [];
  const collect = (t: number): void => {
    for (const b of s.take().packets) {
      const p = parsePacket(b);
      if (!p.control) sentAt.push({ t, seq: p.seq, bytes: b.length });
    }
  };
  collect(0);
  assert.ok(sentAt.length <= 3, `burst at start ${sentAt.length} packets`);
  for (let t = 10_000; t <= 4_000_000; t += 10_000) {
    s.tick(t);
    collect(t);
  }
  const inFirstTwoSeconds = sentAt.filter((x) => x.t <= 2_000_000).reduce((n, x) => n + x.bytes, 0);
  assert.ok(inFirstTwoSeconds <= 2 * rate + 3000 && inFirstTwoSeconds >= 2 * rate - 3000, `bytes in 2 s: ${inFirstTwoSeconds}`);
  assert.equal(sentAt.length, 200, 'every packet goes, late but in order');
  for (let i = 1; i < sentAt.length; i++) assert.equal(sentAt[i]!.seq, (sentAt[i - 1]!.seq + 1) & 0x7fffffff);
  assert.equal(s.pacedPackets, 0);
  // KEEPALIVE and other control packets are not held by the pacer.
  const idle = new SrtConnection(options({ maxBwBytesPerSec: 1 }), 0);
  idle.tick(1_000_000);
  assert.ok(idle.take().packets.some((b) => parsePacket(b).control));
});

test('maxbw with tlpktdrop: packets that would arrive after the peer\'s latency are skipped, fresh ones go', () => {
  const s = new SrtConnection(options({ maxBwBytesPerSec: 10_000, sendLatencyUs: 200_000 }), 0);
  for (let i = 0; i < 100; i++) s.send(Buffer.alloc(1316), 0);
  s.take();
  s.tick(300_000);
  s.send(Buffer.alloc(1316, 7), 300_000);
  let fresh = false;
  for (let t = 310_000; t < 1_000_000 && !fresh; t += 10_000) {
    s.tick(t);
    fresh = s.take().packets.some((b) => {
      const p = parsePacket(b);
      return !p.control && p.payload[0] === 7;
    });
  }
  assert.ok(fresh, 'the fresh packet went out');
  assert.ok(s.stats.packetsSendDropped >= 90, `skipped ${s.stats.packetsSendDropped}`);
});

test('maxbw: the pacer queue is bounded by the send buffer (oldest dropped, counted)', () => {
  const s = new SrtConnection(options({ maxBwBytesPerSec: 1000, sendBufferPackets: 40, peerFlowWindow: 40 }), 0);
  for (let i = 0; i < 500; i++) s.send(Buffer.alloc(1316), 0);
  assert.ok(s.pacedPackets <= 40, `queued ${s.pacedPackets}`);
  assert.ok(s.stats.packetsSendDropped > 0);
});

test('maxbw -1 and 0 leave sending uncapped', () => {
  for (const m of [-1, 0]) {
    const s = new SrtConnection(options({ maxBwBytesPerSec: m }), 0);
    for (let i = 0; i < 50; i++) s.send(Buffer.alloc(1316), 0);
    assert.equal(s.take().packets.length, 50);
  }
});

test('a key refreshed in the running connection (KMREQ) is taken, answered (KMRSP), and packets under the new key decrypt', () => {
  const passphrase = 'refresh-secret';
  const { keys } = newKeyMaterial(passphrase, 16);
  const receiver = new SrtConnection(options({ keys, passphrase, tsbpd: false }), 0);
  const odd = randomBytes(16);
  const oddPacket = (seq: number, text: string): SrtPacket =>
    parsePacket(buildDataPacket({ seq, position: 3, inOrder: false, keyFlags: 2, retransmitted: false, messageNumber: seq + 1, timestamp: 1000, destSocket: 1, payload: cryptPayload({ ...keys, odd }, 2, seq, Buffer.from(text)) }));
  const kmreq = (km: Buffer): SrtPacket => parsePacket(buildControlPacket(ControlType.USER, 0, 1000, 1, km, 3));
  const answers = (): Buffer[] => receiver.take().packets.map(parsePacket).flatMap((p) => (p.control && p.type === ControlType.USER && p.subtype === 4 ? [p.body] : []));
  const seq0 = 0x7ffffff0;
  receiver.receive(oddPacket(seq0, 'before'), 10_000);
  assert.deepEqual(receiver.take().payloads, [], 'no odd key yet: nothing decrypts');
  // libsrt pre-announces the new key with both keys in one message.
  const both = buildKeyMaterial(wrapKeys({ ...keys, odd }, passphrase));
  receiver.receive(kmreq(both), 20_000);
  assert.deepEqual(answers(), [both], 'KMRSP echoes the key material');
  // The packet lost to decryption comes again (the sender's retransmission after our NAK), then the next.
  receiver.receive(oddPacket(seq0, 'before'), 30_000);
  receiver.receive(oddPacket(seq0 + 1, 'after'), 31_000);
  receiver.tick(40_000);
  assert.deepEqual(receiver.take().payloads.map(String), ['before', 'after']);
  // A resend of the same KMREQ (our KMRSP was lost) is answered again at once.
  receiver.receive(kmreq(both), 50_000);
  assert.deepEqual(answers(), [both]);
  // Key material under another passphrase is refused with SRT_KM_S_BADSECRET, a second later (one unwrap a second).
  receiver.receive(kmreq(buildKeyMaterial(wrapKeys({ ...keys, odd: randomBytes(16) }, 'wrong-passphrase'))), 1_100_000);
  assert.deepEqual(answers().map((b) => b.toString('hex')), ['00000004']);
});
