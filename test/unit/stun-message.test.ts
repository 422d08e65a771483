import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseStun, verifyIntegrity, bindingSuccess, looksLikeStun } from '../../src/protocol/stun/stun-message.js';
import { bindingRequest, xorMappedAddress, fingerprintOk } from '../helpers/stun-request.js';

const PWD = 'Yq0o9hTGW4xvV1t8bT6K9w8Z';

test('STUN: a browser-style check is parsed and its MESSAGE-INTEGRITY verified', () => {
  const tid = randomBytes(12);
  const req = bindingRequest({ username: 'srvU:cliU', password: PWD, useCandidate: true, transactionId: tid });
  const m = parseStun(req);
  assert.ok(m);
  assert.equal(m.method, 1);
  assert.equal(m.cls, 'request');
  assert.equal(m.username, 'srvU:cliU');
  assert.equal(m.priority, 1853824767);
  assert.equal(m.useCandidate, true);
  assert.equal(m.transactionId, tid.toString('hex'));
  assert.ok(verifyIntegrity(req, m, PWD));
  assert.ok(!verifyIntegrity(req, m, PWD + 'x'), 'a wrong password fails');
  const plain = parseStun(bindingRequest({ username: 'srvU:cliU', password: PWD }));
  assert.equal(plain?.useCandidate, false);
});

test('STUN: a check altered anywhere before MESSAGE-INTEGRITY fails verification', () => {
  const req = bindingRequest({ username: 'srvU:cliU', password: PWD, useCandidate: true });
  const m = parseStun(req)!;
  for (let i = 20; i < m.integrityAt; i++) {
    const bad = Buffer.from(req);
    bad[i] ^= 0x01;
    const pm = parseStun(bad);
    if (pm) assert.ok(!verifyIntegrity(bad, pm, PWD), `byte ${i} flipped still verifies`);
  }
});

test('STUN: binding success carries the client address (IPv4, IPv4-mapped, IPv6), is signed and fingerprinted', () => {
  for (const [addr, want] of [
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:198.51.100.20', '198.51.100.20'],
    ['2001:db8::1:2', '2001:db8:0:0:0:0:1:2'],
  ] as const) {
    const tid = randomBytes(12).toString('hex');
    const res = bindingSuccess(tid, { address: addr, port: 54321 }, PWD);
    const m = parseStun(res);
    assert.ok(m, addr);
    assert.equal(m.cls, 'success');
    assert.equal(m.method, 1);
    assert.equal(m.transactionId, tid);
    assert.ok(verifyIntegrity(res, m, PWD), `${addr}: integrity`);
    assert.ok(fingerprintOk(res), `${addr}: fingerprint`);
    const x = xorMappedAddress(res);
    assert.deepEqual(x && { address: x.address, port: x.port }, { address: want, port: 54321 });
  }
});

test('STUN: malformed and random input is refused without throwing', () => {
  const req = bindingRequest({ username: 'a:b', password: PWD });
  assert.equal(parseStun(req.subarray(0, req.length - 1)), null, 'truncated');
  const longer = Buffer.concat([req, Buffer.alloc(4)]);
  assert.equal(parseStun(longer), null, 'length field disagrees');
  const badAttr = Buffer.from(req);
  badAttr.writeUInt16BE(0xfff0, 22); // USERNAME length past the end
  assert.equal(parseStun(badAttr), null, 'attribute past the end');
  for (let i = 0; i < 20000; i++) {
    const b = i % 2 ? randomBytes(20 + (i % 120)) : Buffer.from(req);
    if (i % 2 === 0) for (let k = 0; k < 1 + (i % 5); k++) b[(i * 7 + k * 13) % b.length] ^= 1 + (i % 255);
    if (i % 3 === 0) {
      b[0] = 0;
      b.writeUInt32BE(0x2112a442, 4);
      b.writeUInt16BE((b.length - 20) & ~3, 2);
    }
    const m = parseStun(b);
    if (m) verifyIntegrity(b, m, PWD);
    assert.equal(looksLikeStun(b) || m === null, true);
  }
});
