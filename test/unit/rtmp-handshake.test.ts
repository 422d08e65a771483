import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import {
  HANDSHAKE_KEYS,
  HANDSHAKE_SIZE,
  RtmpClientHandshake,
  RtmpServerHandshake,
  digestOffset,
  findDigest,
  imprintDigest,
} from '../../src/protocol/rtmp/handshake.js';
import { RtmpError } from '../../src/protocol/rtmp/rtmp-error.js';

const hmac = (key: Buffer, ...parts: Buffer[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Builds a C0C1 by hand with a digest in the given schema. */
function complexC0C1(schema: 0 | 1): { c0c1: Buffer; digest: Buffer } {
  const c1 = randomBytes(HANDSHAKE_SIZE);
  c1.writeUInt32BE(0, 0);
  c1.writeUInt32BE(0x80000702, 4);
  const base = schema === 0 ? 772 : 8;
  const sum = c1[base] + c1[base + 1] + c1[base + 2] + c1[base + 3];
  const pos = (sum % 728) + base + 4;
  assert.equal(pos, digestOffset(c1, schema));
  const digest = hmac(HANDSHAKE_KEYS.playerText, c1.subarray(0, pos), c1.subarray(pos + 32));
  digest.copy(c1, pos);
  return { c0c1: Buffer.concat([Buffer.from([3]), c1]), digest };
}

describe('server handshake', () => {
  test('simple: S0S1S2 after C0C1, S2 echoes C1, done after C2, rest returned', () => {
    const hs = new RtmpServerHandshake();
    const c1 = randomBytes(HANDSHAKE_SIZE);
    c1.writeUInt32BE(0, 4); // version 0 → simple
    const r1 = hs.feed(Buffer.concat([Buffer.from([3]), c1]));
    assert.equal(r1.done, false);
    assert.equal(r1.send.length, 1);
    const out = r1.send[0];
    assert.equal(out.length, 1 + 2 * HANDSHAKE_SIZE);
    assert.equal(out[0], 3);
    assert.deepEqual(out.subarray(1 + HANDSHAKE_SIZE), c1);
    assert.equal(hs.mode, 'simple');
    const extra = Buffer.from([0x02, 0xaa]);
    const r2 = hs.feed(Buffer.concat([randomBytes(HANDSHAKE_SIZE), extra]));
    assert.equal(r2.done, true);
    assert.deepEqual(r2.rest, extra);
  });

  test('a C1 with version set but no valid digest falls back to simple', () => {
    const hs = new RtmpServerHandshake();
    const c1 = randomBytes(HANDSHAKE_SIZE);
    c1.writeUInt32BE(0x80000702, 4);
    const out = hs.feed(Buffer.concat([Buffer.from([3]), c1])).send[0];
    assert.equal(hs.mode, 'simple');
    assert.deepEqual(out.subarray(1 + HANDSHAKE_SIZE), c1);
  });

  for (const schema of [0, 1] as const) {
    test(`complex schema ${schema}: S1 digest and S2 signature check out`, () => {
      const { c0c1, digest } = complexC0C1(schema);
      const hs = new RtmpServerHandshake();
      const out = hs.feed(c0c1).send[0];
      assert.equal(hs.mode, 'complex');
      const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
      const s2 = out.subarray(1 + HANDSHAKE_SIZE);
      assert.ok(s1[4] >= 3, 'S1 version must be non-zero for ffmpeg to check it');
      const found = findDigest(s1, HANDSHAKE_KEYS.serverText);
      assert.ok(found);
      assert.equal(found.schema, schema);
      // S2 signature: HMAC(HMAC(server full key, C1 digest), S2[0..1504])
      const key = hmac(HANDSHAKE_KEYS.serverFull, digest);
      assert.deepEqual(hmac(key, s2.subarray(0, HANDSHAKE_SIZE - 32)), s2.subarray(HANDSHAKE_SIZE - 32));
    });
  }

  test('byte-at-a-time feeding', () => {
    const { c0c1 } = complexC0C1(1);
    const input = Buffer.concat([c0c1, randomBytes(HANDSHAKE_SIZE), Buffer.from([7])]);
    const hs = new RtmpServerHandshake();
    const sent: Buffer[] = [];
    let rest: Buffer | null = null;
    let doneAt = -1;
    for (let i = 0; i < input.length; i++) {
      const r = hs.feed(input.subarray(i, i + 1));
      sent.push(...r.send);
      if (r.done && doneAt < 0) {
        doneAt = i;
        rest = r.rest;
      }
    }
    assert.equal(sent.length, 1);
    assert.equal(hs.mode, 'complex');
    assert.equal(doneAt, 1 + 2 * HANDSHAKE_SIZE - 1);
    assert.equal(rest, null);
  });

  test('wrong version byte is rejected immediately', () => {
    for (const v of [0, 6, 0x47 /* 'G' of HTTP GET */]) {
      const hs = new RtmpServerHandshake();
      assert.throws(() => hs.feed(Buffer.from([v])), (e: unknown) => e instanceof RtmpError && e.code === 'handshake');
    }
  });
});

describe('client handshake against the server', () => {
  for (const complex of [false, true]) {
    test(`${complex ? 'complex' : 'simple'} client completes with our server`, () => {
      const client = new RtmpClientHandshake(complex);
      const server = new RtmpServerHandshake();
      const c0c1 = client.start();
      assert.equal(c0c1.length, 1 + HANDSHAKE_SIZE);
      const s = server.feed(c0c1);
      const c = client.feed(Buffer.concat(s.send));
      assert.equal(c.done, true);
      assert.equal(client.mode, complex ? 'complex' : 'simple');
      assert.equal(server.mode, complex ? 'complex' : 'simple');
      const f = server.feed(Buffer.concat(c.send));
      assert.equal(f.done, true);
      if (complex) {
        // C2 signature keyed off the S1 digest with the player's full key.
        const s1 = s.send[0].subarray(1, 1 + HANDSHAKE_SIZE);
        const sd = findDigest(s1, HANDSHAKE_KEYS.serverText);
        assert.ok(sd);
        const c2 = c.send[0];
        const key = hmac(HANDSHAKE_KEYS.playerFull, sd.digest);
        assert.deepEqual(hmac(key, c2.subarray(0, HANDSHAKE_SIZE - 32)), c2.subarray(HANDSHAKE_SIZE - 32));
      }
    });
  }

  test('complex client rejects a tampered S2', () => {
    const client = new RtmpClientHandshake(true);
    const server = new RtmpServerHandshake();
    const s = Buffer.from(server.feed(client.start()).send[0]);
    s[s.length - 1] ^= 1;
    assert.throws(() => client.feed(s), (e: unknown) => e instanceof RtmpError && e.code === 'handshake');
  });

  test('imprintDigest and findDigest agree', () => {
    const pkt = randomBytes(HANDSHAKE_SIZE);
    const d = imprintDigest(pkt, 0, HANDSHAKE_KEYS.serverText);
    assert.deepEqual(findDigest(pkt, HANDSHAKE_KEYS.serverText)?.digest, d);
    assert.equal(findDigest(pkt, HANDSHAKE_KEYS.playerText), null);
  });
});
