import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildKeyMaterial, cryptPayload, newKeyMaterial, parseKeyMaterial, unwrapKeys } from '../../src/protocol/srt/srt-key-material.js';
import { SrtError } from '../../src/protocol/srt/srt-error.js';

for (const len of [16, 24, 32]) {
  test(`key material (${len * 8}-bit): RFC 3394 wrap round-trips, a wrong passphrase is detected, AES-CTR is its own inverse`, () => {
    const { km, keys } = newKeyMaterial('correct horse', len);
    const parsed = parseKeyMaterial(buildKeyMaterial(km));
    assert.equal(parsed.keyLength, len);
    const got = unwrapKeys(parsed, 'correct horse');
    assert.ok(got);
    assert.deepEqual(got.even, keys.even);
    assert.equal(unwrapKeys(parsed, 'wrong horse'), null);
    const plain = Buffer.alloc(1316, 0x47);
    const enc = cryptPayload(keys, 1, 12345, plain);
    assert.notDeepEqual(enc, plain);
    assert.deepEqual(cryptPayload(got, 1, 12345, enc), plain);
    assert.notDeepEqual(cryptPayload(got, 1, 12346, enc), plain);
  });
}

test('key material: bad signature or cipher is an SrtError', () => {
  const b = buildKeyMaterial(newKeyMaterial('x'.repeat(10), 16).km);
  b[1] = 0;
  assert.throws(() => parseKeyMaterial(b), SrtError);
  assert.throws(() => parseKeyMaterial(Buffer.alloc(8)), SrtError);
});
