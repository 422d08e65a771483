import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CodecError } from '../../src/codec/codec-error.js';
import {
  describeHevcConfig,
  hevcHasIrap,
  hevcLevelName,
  hevcProfileName,
  parseHevcDecoderConfig,
  parseHevcSps,
} from '../../src/codec/hevc.js';
import { BitWriter } from '../helpers/bit-writer.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url));


function buildSps(opts: { width: number; height: number; window?: number[]; subLayers?: boolean; profile?: number; level?: number }): Buffer {
  const w = new BitWriter();
  w.u(4, 0).u(3, opts.subLayers ? 1 : 0).u(1, 1);
  w.u(2, 0).u(1, 0).u(5, opts.profile ?? 1).u(32, 0x60000000).u(16, 0x9000).u(32, 0).u(8, opts.level ?? 93);
  if (opts.subLayers) {
    w.u(1, 1).u(1, 0); // sub_layer_profile_present, sub_layer_level_present
    w.u(14, 0); // reserved_zero_2bits for i = 1..7
    w.u(32, 0xffffffff).u(32, 0xffffffff).u(24, 0xffffff); // 88 bits of sub-layer profile
  }
  w.ue(0).ue(1).ue(opts.width).ue(opts.height);
  if (opts.window) {
    w.u(1, 1);
    for (const v of opts.window) w.ue(v);
  } else {
    w.u(1, 0);
  }
  return Buffer.concat([Buffer.from([0x42, 0x01]), w.finish()]);
}

describe('HEVC SPS', () => {
  test('conformance window crops 1088 to 1080', () => {
    const sps = parseHevcSps(buildSps({ width: 1920, height: 1088, window: [0, 0, 0, 4] }));
    assert.deepEqual([sps.codedWidth, sps.codedHeight, sps.width, sps.height], [1920, 1088, 1920, 1080]);
    assert.equal(sps.profileIdc, 1);
    assert.equal(sps.levelIdc, 93);
    assert.equal(sps.chromaFormatIdc, 1);
  });

  test('sub-layer profile info is skipped', () => {
    const sps = parseHevcSps(buildSps({ width: 1280, height: 720, subLayers: true, level: 123 }));
    assert.deepEqual([sps.width, sps.height, sps.levelIdc], [1280, 720, 123]);
  });

  test('non-SPS and truncated input throw CodecError', () => {
    assert.throws(() => parseHevcSps(Buffer.from([0x40, 0x01, 0x0c, 0x01, 0xff])), CodecError);
    const good = buildSps({ width: 1920, height: 1088, window: [0, 0, 0, 4] });
    for (let n = 0; n < good.length - 1; n++) assert.throws(() => parseHevcSps(good.subarray(0, n)), CodecError);
  });
});

describe('HEVCDecoderConfigurationRecord', () => {
  test('x265 160x120 Main record', () => {
    const rec = fixture('hevc-160x120.hvcc');
    const cfg = parseHevcDecoderConfig(rec);
    assert.equal(cfg.profileIdc, 1);
    assert.equal(cfg.levelIdc, 30);
    assert.equal(cfg.lengthSizeMinusOne, 3);
    assert.equal(cfg.chromaFormatIdc, 1);
    assert.deepEqual(
      cfg.arrays.map((a) => a.nalType),
      [32, 33, 34, 39],
    );
    assert.deepEqual(describeHevcConfig(rec), { codec: 'HEVC', profile: 'Main', level: '1', width: 160, height: 120 });
  });

  test('x265 1080p Main10 record', () => {
    const rec = fixture('hevc-main10-1080p.hvcc');
    assert.equal(parseHevcDecoderConfig(rec).bitDepthLuma, 10);
    assert.deepEqual(describeHevcConfig(rec), { codec: 'HEVC', profile: 'Main10', level: '4', width: 1920, height: 1080 });
  });

  test('tolerant: record cut after its fixed part still gives profile and level', () => {
    const rec = fixture('hevc-main10-1080p.hvcc');
    assert.deepEqual(describeHevcConfig(rec.subarray(0, 30)), {
      codec: 'HEVC',
      profile: 'Main10',
      level: '4',
      width: 0,
      height: 0,
    });
    assert.throws(() => parseHevcDecoderConfig(rec.subarray(0, 30)), CodecError);
    assert.throws(() => describeHevcConfig(rec.subarray(0, 22)), CodecError);
  });

  test('fuzz: mutated records describe or throw CodecError, and an intact SPS still says 160x120', () => {
    // VPS + SPS + PPS: the SEI array is dropped (3 arrays, cut after the PPS). Cutting
    // inside the SEI, as this test once did, left a record that never parsed: its SPS was never fuzzed.
    const base = Buffer.from(fixture('hevc-160x120.hvcc').subarray(0, 111));
    base[22] = 3;
    assert.deepEqual(describeHevcConfig(base), { codec: 'HEVC', profile: 'Main', level: '1', width: 160, height: 120 });
    // Where the record's SPS ends (walking its NAL arrays): damage after it must not change the size.
    let spsEnd = 0;
    for (let o = 23, a = 0; a < base[22]! && o + 3 <= base.length; a++) {
      const type = base[o]! & 0x3f;
      const count = base.readUInt16BE(o + 1);
      o += 3;
      for (let k = 0; k < count && o + 2 <= base.length; k++) {
        o += 2 + base.readUInt16BE(o);
        if (type === 33) spsEnd = o;
      }
    }
    assert.ok(spsEnd > 0 && spsEnd < base.length, `SPS ends at ${spsEnd}`);
    let seed = 99;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let intactParsed = 0;
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(base);
      const flips = 1 + Math.floor(rand() * 4);
      // Every other record is damaged after the SPS only (in the PPS), the rest anywhere.
      const from = i % 2 ? spsEnd : 0;
      for (let k = 0; k < flips; k++) b[from + Math.floor(rand() * (b.length - from))] = Math.floor(rand() * 256);
      const rec = rand() < 0.2 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
      let info: ReturnType<typeof describeHevcConfig>;
      try {
        info = describeHevcConfig(rec);
      } catch (e) {
        assert.ok(e instanceof CodecError, String(e));
        continue;
      }
      assert.equal(info.codec, 'HEVC');
      if (rec.length >= spsEnd && rec.subarray(0, spsEnd).equals(base.subarray(0, spsEnd))) {
        // The size comes from the SPS when the record's arrays parse, else there is none.
        let arraysParse = true;
        try {
          parseHevcDecoderConfig(rec);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
          arraysParse = false;
        }
        const expected = arraysParse ? [160, 120] : [0, 0];
        assert.deepEqual([info.width, info.height], expected, `case ${i}: ${rec.toString('hex')}`);
        if (arraysParse) intactParsed++;
      } else {
        // A damaged SPS gives no size or a whole one, never width without height.
        assert.equal(info.width > 0, info.height > 0, `case ${i}: ${info.width}x${info.height}`);
      }
    }
    assert.ok(intactParsed > 300, `intact SPS cases that parsed: ${intactParsed}`);
  });
});

describe('HEVC names and IRAP detection', () => {
  test('profile names incl. compatibility-flag fallback', () => {
    assert.equal(hevcProfileName(1), 'Main');
    assert.equal(hevcProfileName(2), 'Main10');
    assert.equal(hevcProfileName(3), 'Main Still Picture');
    assert.equal(hevcProfileName(4), 'Rext');
    assert.equal(hevcProfileName(0, 0x20000000), 'Main10'); // flag[2]
    assert.equal(hevcProfileName(9), 'Other');
  });

  test('level names are idc / 30', () => {
    assert.equal(hevcLevelName(30), '1');
    assert.equal(hevcLevelName(63), '2.1');
    assert.equal(hevcLevelName(93), '3.1');
    assert.equal(hevcLevelName(120), '4');
    assert.equal(hevcLevelName(153), '5.1');
    assert.equal(hevcLevelName(186), '6.2');
    assert.equal(hevcLevelName(0), 'Other');
  });

  test('IRAP (IDR/CRA) vs trailing pictures', () => {
    const idr = Buffer.from([0, 0, 0, 3, 0x46, 0x01, 0x10, 0, 0, 0, 3, 0x26, 0x01, 0xaf]); // AUD, IDR_W_RADL
    const cra = Buffer.from([0, 0, 0, 3, 0x2a, 0x01, 0xaf]);
    const trail = Buffer.from([0, 0, 0, 3, 0x02, 0x01, 0xd0]);
    assert.equal(hevcHasIrap(idr), true);
    assert.equal(hevcHasIrap(cra), true);
    assert.equal(hevcHasIrap(trail), false);
    assert.throws(() => hevcHasIrap(Buffer.from([0, 0, 0, 8, 0x26])), CodecError);
  });
});
