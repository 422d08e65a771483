import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Amf0EcmaArray, AmfError, decodeAmf0, decodeAmf0Value, encodeAmf0 } from '../../src/format/amf0.js';
import type { Amf0Value } from '../../src/format/amf0.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ONE = '3ff0000000000000';

describe('AMF0 known byte vectors', () => {
  test('scalars encode to the documented bytes', () => {
    assert.deepEqual(encodeAmf0([1]), hex(`00 ${ONE}`));
    assert.deepEqual(encodeAmf0([true, false]), hex('0101 0100'));
    assert.deepEqual(encodeAmf0(['abc']), hex('02 0003 616263'));
    assert.deepEqual(encodeAmf0([null, undefined]), hex('05 06'));
    assert.deepEqual(encodeAmf0([new Date(1)]), hex(`0b ${ONE} 0000`));
  });

  test('object, ECMA array and strict array', () => {
    assert.deepEqual(encodeAmf0([{ a: 1 }]), hex(`03 0001 61 00 ${ONE} 000009`));
    assert.deepEqual(encodeAmf0([new Amf0EcmaArray({ a: 'b' })]), hex('08 00000001 0001 61 02 0001 62 000009'));
    assert.deepEqual(encodeAmf0([[1]]), hex(`0a 00000001 00 ${ONE}`));
  });

  test('decodes the same vectors; ECMA arrays come back as plain objects', () => {
    assert.deepEqual(decodeAmf0(hex(`00 ${ONE} 0101 02 0003 616263 05 06`)), [1, true, 'abc', null, undefined]);
    assert.deepEqual(decodeAmf0(hex('08 00000001 0001 61 02 0001 62 000009')), [{ a: 'b' }]);
    // A wrong ECMA count is tolerated: properties are read up to the end marker.
    assert.deepEqual(decodeAmf0(hex('08 00000007 0001 61 02 0001 62 000009')), [{ a: 'b' }]);
    const d = decodeAmf0(hex(`0b ${ONE} 0000`))[0];
    assert.ok(d instanceof Date);
    assert.equal(d.getTime(), 1);
  });

  test('long strings both ways', () => {
    const s = 'x'.repeat(70000);
    const b = encodeAmf0([s]);
    assert.equal(b[0], 0x0c);
    assert.equal(b.readUInt32BE(1), 70000);
    assert.deepEqual(decodeAmf0(b), [s]);
  });

  test('decodeAmf0Value returns the new offset; max limits decodeAmf0', () => {
    const b = encodeAmf0(['connect', 1, null]);
    const r = decodeAmf0Value(b, 0);
    assert.equal(r.value, 'connect');
    assert.equal(r.offset, 10);
    assert.deepEqual(decodeAmf0Value(b, r.offset), { value: 1, offset: 19 });
    assert.deepEqual(decodeAmf0(b, 2), ['connect', 1]);
  });

  test('a typical connect command round trips', () => {
    const v: Amf0Value[] = [
      'connect',
      1,
      { app: 'live', tcUrl: 'rtmp://h/live', fpad: false, capabilities: 15, nested: { list: [1, 'two', null] } },
      { token: 'é漢字' },
    ];
    assert.deepEqual(decodeAmf0(encodeAmf0(v)), v);
  });

  test('references resolve to the referenced object', () => {
    const b = Buffer.concat([encodeAmf0([{ a: 1 }]), hex('07 0000'), hex('07 0009')]);
    const out = decodeAmf0(b);
    assert.deepEqual(out[0], { a: 1 });
    assert.equal(out[1], out[0]);
    assert.equal(out[2], undefined); // unknown reference tolerated
  });

  test('typed object keeps its properties', () => {
    assert.deepEqual(decodeAmf0(hex(`10 0003 466f6f 0001 61 00 ${ONE} 000009`)), [{ a: 1 }]);
  });

  test('__proto__ keys do not change the prototype', () => {
    const b = hex(`03 0009 5f5f70726f746f5f5f 03 0001 78 00 ${ONE} 000009 000009`);
    const o = decodeAmf0(b)[0] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.deepEqual(Object.keys(o), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});

describe('AMF3 inside AMF0 (marker 0x11)', () => {
  test('basic AMF3 types', () => {
    assert.deepEqual(decodeAmf0(hex('1100 1101 1102 1103')), [undefined, null, false, true]);
    assert.deepEqual(decodeAmf0(hex('11047f 11048100 1104ffffffff 1104bfffffff')), [127, 128, -1, 0x0fffffff]);
    assert.deepEqual(decodeAmf0(hex(`1105 ${ONE}`)), [1]);
  });

  test('strings and the string reference table', () => {
    // "abc" inline (length 3 → U29 = 3<<1|1 = 7), then reference #0, then the empty string.
    assert.deepEqual(decodeAmf0(hex('1106 07 616263 1106 00 1106 01')), ['abc', 'abc', '']);
    assert.throws(() => decodeAmf0(hex('1106 02')), AmfError);
  });

  test('complex AMF3 types are refused', () => {
    assert.throws(() => decodeAmf0(hex('110a0b01')), AmfError);
    assert.throws(() => decodeAmf0(hex('1109')), AmfError);
  });
});

describe('AMF0 bad input', () => {
  test('truncations and impossible lengths throw AmfError', () => {
    for (const h of ['00 3ff0', '02 0005 6162', '0c ffffffff 00', '03 0001 61', '0a ffffffff 05', '0b 00', '07 00', '01', '03']) {
      assert.throws(() => decodeAmf0(hex(h)), AmfError, h);
    }
  });

  test('unsupported markers and stray object end throw AmfError', () => {
    assert.throws(() => decodeAmf0(hex('04')), AmfError);
    assert.throws(() => decodeAmf0(hex('09')), AmfError);
    assert.throws(() => decodeAmf0(hex('0e')), AmfError);
    assert.throws(() => decodeAmf0(hex('ff')), AmfError);
  });

  test('nesting is limited', () => {
    const deep = Buffer.concat([...Array.from({ length: 200 }, () => hex('03 0001 61'))]);
    assert.throws(() => decodeAmf0(deep), (e: unknown) => e instanceof AmfError && /nesting/.test(e.message));
    const arrays = Buffer.concat(Array.from({ length: 200 }, () => hex('0a 00000001')));
    assert.throws(() => decodeAmf0(arrays), (e: unknown) => e instanceof AmfError && /nesting/.test(e.message));
    // 30 levels are fine.
    let v: Amf0Value = 1;
    for (let i = 0; i < 30; i++) v = { k: v };
    assert.deepEqual(decodeAmf0(encodeAmf0([v])), [v]);
  });

  test('fuzz: random and mutated input either decodes or throws AmfError, quickly', () => {
    const seeds = [
      encodeAmf0(['connect', 1, { app: 'live', tcUrl: 'rtmp://x/live', list: [1, 2, new Date(5)] }, new Amf0EcmaArray({ a: 'b' })]),
      encodeAmf0(['onMetaData', new Amf0EcmaArray({ width: 320, height: 240, encoder: 'Lavf', stereo: true })]),
      hex('1106 07 616263 1106 00 11048100 1105 3ff0000000000000'),
    ];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < 3000; i++) {
      let buf: Buffer;
      if (i % 3 === 0) {
        buf = randomBytes(1 + (i % 64));
      } else {
        buf = Buffer.from(seeds[i % seeds.length]);
        const flips = 1 + (i % 4);
        for (let k = 0; k < flips; k++) buf[(Math.random() * buf.length) | 0] = (Math.random() * 256) | 0;
        if (i % 5 === 0) buf = buf.subarray(0, (Math.random() * buf.length) | 0);
      }
      try {
        decodeAmf0(buf);
      } catch (e) {
        if (!(e instanceof AmfError)) throw e;
      }
    }
    assert.ok(cpuMsSince(cpu0) < 5000, 'CPU time of the loop: a parser that loops or goes quadratic');
  });
});
