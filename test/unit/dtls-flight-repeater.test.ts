/**
 * The DTLS flight repeater, sans-IO with an injected clock: records are
 * built here byte by byte from RFC 6347's layout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DtlsFlightRepeater, summarizeDtls, isDtlsDatagram } from '../../src/protocol/dtls/dtls-flight-repeater.js';

/** One DTLS 1.2 record: type, version FEFD, epoch, 48-bit sequence, length, body. */
function record(type: number, epoch: number, seq: number, body: Buffer): Buffer {
  const h = Buffer.alloc(13);
  h[0] = type;
  h.writeUInt16BE(0xfefd, 1);
  h.writeUInt16BE(epoch, 3);
  h.writeUIntBE(seq, 5, 6);
  h.writeUInt16BE(body.length, 11);
  return Buffer.concat([h, body]);
}

/** A handshake message in one fragment: type, length, message_seq, offset 0, fragment length, body. */
function handshake(msgType: number, messageSeq: number, recordSeq: number, bodyLen = 40): Buffer {
  const b = Buffer.alloc(12 + bodyLen, 0x11);
  b[0] = msgType;
  b.writeUIntBE(bodyLen, 1, 3);
  b.writeUInt16BE(messageSeq, 4);
  b.writeUIntBE(0, 6, 3);
  b.writeUIntBE(bodyLen, 9, 3);
  return record(22, 0, recordSeq, b);
}

const ccs = (recordSeq: number): Buffer => record(20, 0, recordSeq, Buffer.from([1]));
const finished = (recordSeq: number): Buffer => record(22, 1, recordSeq, Buffer.alloc(48, 0x22));
const srtp = (): Buffer => Buffer.from([0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa]);

test('records are recognised: handshake types and message_seq, CCS and epoch 1, truncation', () => {
  const d = Buffer.concat([handshake(11, 1, 1), handshake(16, 2, 2), ccs(3), finished(0)]);
  assert.ok(isDtlsDatagram(d));
  const s = summarizeDtls(d);
  assert.deepEqual(s.handshakeTypes, [11, 16]);
  assert.deepEqual(s.handshakeSeqs, [1, 2]);
  assert.equal(s.cipherChange, true);
  assert.equal(s.malformed, false);
  assert.equal(summarizeDtls(d.subarray(0, d.length - 1)).malformed, true);
  assert.equal(summarizeDtls(d.subarray(0, 7)).malformed, true);
  assert.equal(isDtlsDatagram(srtp()), false);
  assert.equal(isDtlsDatagram(Buffer.from([0, 1, 0, 0])), false);
});

test('an unanswered ClientHello is resent at 100, 300, 700, 1500, 3100 ms, then left to libdatachannel', () => {
  const r = new DtlsFlightRepeater();
  const hello = handshake(1, 0, 0);
  r.sent(hello, 1000);
  assert.equal(r.nextAt, 1100);
  assert.deepEqual(r.poll(1099), []);
  const at: number[] = [];
  for (let t = 1000; t < 10_000; t += 10) {
    const out = r.poll(t);
    if (out.length) {
      assert.equal(out[0], hello, 'the same bytes, record sequence and all');
      at.push(t - 1000);
    }
  }
  assert.deepEqual(at, [100, 300, 700, 1500, 3100]);
  assert.equal(r.nextAt, Infinity);
});

test('the peer\'s answer stops the resends; its retransmission of an old flight does not', () => {
  const r = new DtlsFlightRepeater();
  r.sent(handshake(1, 0, 0), 0);
  r.received(Buffer.concat([handshake(2, 0, 0), handshake(11, 1, 1), handshake(14, 2, 2)]), 50);
  assert.equal(r.nextAt, Infinity, 'ServerHello answers the ClientHello');
  // Flight 5 in three datagrams (OpenSSL fragments after a timeout): one flight, resent whole.
  const f5 = [handshake(11, 1, 1), Buffer.concat([handshake(16, 2, 2), handshake(15, 3, 3)]), Buffer.concat([ccs(4), finished(0)])];
  for (const d of f5) r.sent(d, 60);
  assert.equal(r.nextAt, 160);
  // The peer sends its flight 4 again (it lost ours): not an answer.
  r.received(Buffer.concat([handshake(2, 0, 3), handshake(11, 1, 4), handshake(14, 2, 5)]), 100);
  assert.deepEqual(r.poll(160), f5);
  // libdatachannel's own resend (new record numbers, same messages) replaces the flight and restarts the schedule.
  const again = [handshake(11, 1, 5), Buffer.concat([handshake(16, 2, 6), handshake(15, 3, 7), ccs(8), finished(1)])];
  for (const d of again) r.sent(d, 1060);
  assert.equal(r.nextAt, 1160);
  assert.deepEqual(r.poll(1160), again);
  // The peer's CCS + Finished: done with this flight; SRTP either way ends the watch.
  r.received(Buffer.concat([ccs(6), finished(0)]), 1200);
  assert.equal(r.nextAt, Infinity);
  assert.equal(r.done, false);
  r.sent(srtp(), 1210);
  assert.equal(r.done, true);
  r.sent(handshake(1, 0, 9), 1300);
  assert.equal(r.nextAt, Infinity, 'nothing is watched after the handshake');
});

test('as DTLS server, the last flight (CCS + Finished) is not resent; garbage is ignored', () => {
  const r = new DtlsFlightRepeater();
  r.received(handshake(1, 0, 0), 0);
  r.sent(Buffer.concat([handshake(2, 0, 0), handshake(11, 1, 1), handshake(14, 2, 2)]), 1);
  assert.equal(r.nextAt, 101);
  r.received(Buffer.concat([handshake(11, 1, 1), handshake(16, 2, 2), handshake(15, 3, 3), ccs(4), finished(0)]), 50);
  assert.equal(r.nextAt, Infinity);
  r.sent(Buffer.concat([ccs(3), finished(0)]), 51);
  assert.equal(r.nextAt, Infinity, 'flight 6 gets no answer, so it is not repeated');
  r.received(Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), 60);
  r.sent(Buffer.from([23, 1, 2]), 61);
  assert.equal(r.nextAt, Infinity);
  r.received(srtp(), 70);
  assert.equal(r.done, true);
});

test('a peer that never answers gets a bounded number of resends', () => {
  const r = new DtlsFlightRepeater();
  let resent = 0;
  for (let round = 0; round < 20; round++) {
    const t0 = round * 10_000;
    r.sent(handshake(1, 0, round), t0);
    for (let t = t0; t < t0 + 10_000; t += 50) resent += r.poll(t).length;
  }
  assert.ok(resent <= 24, `${resent} resends`);
  assert.equal(r.done, true);
});
