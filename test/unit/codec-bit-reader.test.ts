import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BitReader, nalToRbsp } from '../../src/codec/bit-reader.js';
import { CodecError } from '../../src/codec/codec-error.js';
import { BitWriter } from '../helpers/bit-writer.js';


function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('BitReader', () => {
  test('reads fixed-width fields across byte boundaries', () => {
    const r = new BitReader(Buffer.from([0b10110011, 0b01010101, 0xff, 0x00, 0x12, 0x34, 0x56, 0x78]));
    assert.equal(r.readBit(), 1);
    assert.equal(r.readBits(3), 0b011);
    assert.equal(r.readBits(8), 0b00110101);
    assert.equal(r.readBits(4), 0b0101);
    assert.equal(r.byteAligned, true);
    assert.equal(r.readBits(8), 0xff);
    r.skipBits(8);
    assert.equal(r.readBits(32), 0x12345678);
    assert.equal(r.bitsLeft, 0);
  });

  test('32-bit reads stay unsigned', () => {
    const r = new BitReader(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    assert.equal(r.readBits(32), 0xfffffffe);
  });

  test('exp-Golomb known codes', () => {
    // 1 | 010 | 011 | 00100 | 00101 → ue 0,1,2,3,4
    const r = new BitReader(Buffer.from([0b10100110, 0b01000010, 0b10000000]));
    assert.deepEqual([r.readUE(), r.readUE(), r.readUE(), r.readUE(), r.readUE()], [0, 1, 2, 3, 4]);
    // se: 1→0, 010→1, 011→-1, 00100→2, 00101→-2
    const s = new BitReader(Buffer.from([0b10100110, 0b01000010, 0b10000000]));
    assert.deepEqual([s.readSE(), s.readSE(), s.readSE(), s.readSE(), s.readSE()], [0, 1, -1, 2, -2]);
  });

  test('round trips random fields and exp-Golomb values', () => {
    const rand = rng(42);
    for (let iter = 0; iter < 300; iter++) {
      const w = new BitWriter();
      const ops: Array<['u', number, number] | ['ue', number] | ['se', number]> = [];
      for (let k = 0; k < 20; k++) {
        const pick = rand();
        if (pick < 0.4) {
          const n = 1 + Math.floor(rand() * 32);
          const v = Math.floor(rand() * 2 ** n);
          ops.push(['u', n, v]);
          w.u(n, v);
        } else if (pick < 0.7) {
          const v = Math.floor(rand() * 2 ** Math.floor(rand() * 31));
          ops.push(['ue', v]);
          w.ue(v);
        } else {
          const v = Math.floor((rand() - 0.5) * 2 ** Math.floor(rand() * 20));
          ops.push(['se', v]);
          w.se(v);
        }
      }
      const r = new BitReader(w.bytes());
      for (const op of ops) {
        if (op[0] === 'u') assert.equal(r.readBits(op[1]), op[2]);
        else if (op[0] === 'ue') assert.equal(r.readUE(), op[1]);
        else assert.equal(r.readSE(), op[1]);
      }
    }
  });

  test('reading past the end throws CodecError', () => {
    const r = new BitReader(Buffer.from([0xaa]));
    r.readBits(7);
    assert.throws(() => r.readBits(2), CodecError);
    assert.throws(() => new BitReader(Buffer.from([0, 0, 0, 0, 0])).readUE(), CodecError);
    assert.throws(() => new BitReader(Buffer.alloc(2), 3), CodecError);
    assert.throws(() => new BitReader(Buffer.alloc(8)).readBits(33), CodecError);
  });

  test('respects the byte range it was given', () => {
    const r = new BitReader(Buffer.from([0x00, 0xab, 0xcd, 0xef]), 1, 3);
    assert.equal(r.readBits(16), 0xabcd);
    assert.throws(() => r.readBit(), CodecError);
  });

  test('fuzz: random bytes either decode or throw CodecError', () => {
    const rand = rng(7);
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.alloc(Math.floor(rand() * 12));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
      const r = new BitReader(buf);
      try {
        for (let k = 0; k < 100; k++) {
          if (rand() < 0.5) r.readUE();
          else r.readBits(1 + Math.floor(rand() * 32));
        }
      } catch (e) {
        assert.ok(e instanceof CodecError, String(e));
      }
    }
  });
});

describe('nalToRbsp', () => {
  test('removes emulation prevention bytes', () => {
    const nal = Buffer.from([0x67, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x03, 0xff]);
    assert.deepEqual(nalToRbsp(nal), Buffer.from([0x67, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff]));
  });

  test('returns the same buffer when there is nothing to remove', () => {
    const nal = Buffer.from([0x67, 0x64, 0x00, 0x1f, 0x00, 0x03]);
    assert.equal(nalToRbsp(nal), nal);
  });

  test('trailing 00 00 03 at the end is dropped', () => {
    assert.deepEqual(nalToRbsp(Buffer.from([1, 0, 0, 3])), Buffer.from([1, 0, 0]));
  });
});

