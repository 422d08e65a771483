import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlType, Position, buildAckBody, buildControlPacket, buildDataPacket, buildLossList, parseAck, parseDropRequest, parseLossList, parsePacket, buildDropRequestBody } from '../../src/protocol/srt/srt-packet.js';
import { ExtType, HandshakeType, buildHsExt, buildStreamIdExt, parseHandshake, parseHsExt, parseStreamIdExt, peerIpField } from '../../src/protocol/srt/srt-handshake.js';
import { SrtError } from '../../src/protocol/srt/srt-error.js';
import { seqDiff, seqInc } from '../../src/protocol/srt/srt-seq.js';
import { conclusion, induction } from '../helpers/srt-packets.js';

test('data packet: every header field round-trips', () => {
  const b = buildDataPacket({ seq: 0x7ffffffe, position: Position.FIRST, inOrder: true, keyFlags: 2, retransmitted: true, messageNumber: 0x3ffffff, timestamp: 0xfffffff0, destSocket: 0xabcdef, payload: Buffer.from('ts') });
  const p = parsePacket(b);
  assert.equal(p.control, false);
  if (p.control) return;
  assert.deepEqual([p.seq, p.position, p.inOrder, p.keyFlags, p.retransmitted, p.messageNumber, p.timestamp, p.destSocket, p.payload.toString()], [0x7ffffffe, 2, true, 2, true, 0x3ffffff, 0xfffffff0, 0xabcdef, 'ts']);
});

test('control packets: ACK (full and light), NAK loss list, DROPREQ', () => {
  const ack = parsePacket(buildControlPacket(ControlType.ACK, 9, 1, 2, buildAckBody({ lastAck: 5, rttUs: 100, rttVarUs: 50, availableBuffer: 10, packetsPerSecond: 1, capacity: 2, bytesPerSecond: 3 })));
  assert.ok(ack.control);
  if (!ack.control) return;
  assert.equal(ack.type, ControlType.ACK);
  assert.equal(ack.info, 9);
  assert.deepEqual(parseAck(ack.body), { lastAck: 5, rttUs: 100, rttVarUs: 50, availableBuffer: 10, packetsPerSecond: 1, capacity: 2, bytesPerSecond: 3 });
  assert.deepEqual(parseAck(Buffer.from([0, 0, 0, 7])), { lastAck: 7 });
  const ranges = [{ from: 3, to: 3 }, { from: 10, to: 20 }];
  assert.deepEqual(parseLossList(buildLossList(ranges)), ranges);
  assert.throws(() => parseLossList(Buffer.from([0x80, 0, 0, 1])), SrtError);
  assert.deepEqual(parseDropRequest(buildDropRequestBody({ from: 4, to: 8 })), { from: 4, to: 8 });
  assert.throws(() => parsePacket(Buffer.alloc(15)), SrtError);
});

test('handshake: induction and conclusion with HSREQ and SID extensions', () => {
  const ind = parsePacket(induction());
  assert.ok(ind.control);
  if (!ind.control) return;
  const hs = parseHandshake(ind.body);
  assert.equal(hs.type, HandshakeType.INDUCTION);
  assert.equal(hs.version, 4);
  const con = parsePacket(conclusion(77, '#!::r=live/s,m=publish', { latencyMs: 200 }));
  assert.ok(con.control);
  if (!con.control) return;
  const c = parseHandshake(con.body);
  assert.equal(c.cookie, 77);
  assert.equal(parseHsExt(c.extensions.find((e) => e.type === ExtType.HSREQ)!.contents).recvLatencyMs, 200);
  assert.equal(parseStreamIdExt(c.extensions.find((e) => e.type === ExtType.SID)!.contents), '#!::r=live/s,m=publish');
  assert.throws(() => parseHandshake(Buffer.alloc(47)), SrtError);
  const truncated = Buffer.from(con.body.subarray(0, 56));
  truncated.writeUInt16BE(100, 50);
  assert.throws(() => parseHandshake(truncated), SrtError);
});

test('SID words are byte-reversed as libsrt writes them; HSREQ puts the send latency in the high half', () => {
  assert.deepEqual([...buildStreamIdExt('abcde')], [0x64, 0x63, 0x62, 0x61, 0, 0, 0, 0x65]);
  const h = buildHsExt({ srtVersion: 1, flags: 0, recvLatencyMs: 120, sendLatencyMs: 200 });
  assert.equal(h.readUInt32BE(8), (200 << 16) | 120);
  assert.deepEqual([...peerIpField('127.0.0.1').subarray(0, 4)], [1, 0, 0, 127]);
});

test('sequence arithmetic wraps at 2^31', () => {
  assert.equal(seqInc(0x7fffffff), 0);
  assert.equal(seqDiff(0x7ffffffe, 1), 3);
  assert.equal(seqDiff(1, 0x7ffffffe), -3);
});
