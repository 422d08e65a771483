import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CodecError } from '../../src/codec/codec-error.js';
import {
  describeAvcConfig,
  h264HasIdr,
  h264LevelName,
  h264ProfileName,
  nalUnits,
  parseAvcDecoderConfig,
  parseH264Sps,
} from '../../src/codec/h264.js';
import { BitWriter } from '../helpers/bit-writer.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url));


/** Inserts emulation prevention bytes, as an encoder would. */
function toNal(header: number, rbsp: Buffer): Buffer {
  const out: number[] = [header];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

interface SpsSpec {
  profile: number;
  level: number;
  widthMbs: number;
  heightMapUnits: number;
  frameMbsOnly?: boolean;
  crop?: [number, number, number, number];
  scaling?: boolean;
  pocType?: number;
  chroma?: number;
}

function buildSps(s: SpsSpec): Buffer {
  const w = new BitWriter().u(8, s.profile).u(8, 0).u(8, s.level).ue(0);
  if ([100, 110, 122, 244].includes(s.profile)) {
    w.ue(s.chroma ?? 1);
    if (s.chroma === 3) w.u(1, 0);
    w.ue(0).ue(0).u(1, 0);
    if (s.scaling) {
      w.u(1, 1);
      for (let i = 0; i < (s.chroma === 3 ? 12 : 8); i++) {
        w.u(1, i === 0 || i === 6 ? 1 : 0);
        if (i === 0 || i === 6) {
          // a few deltas then a delta that makes nextScale 0 (use default from there)
          w.se(3).se(-2).se(-9);
        }
      }
    } else {
      w.u(1, 0);
    }
  }
  w.ue(0); // log2_max_frame_num_minus4
  const poc = s.pocType ?? 0;
  w.ue(poc);
  if (poc === 0) w.ue(2);
  if (poc === 1) w.u(1, 0).se(-1).se(2).ue(3).se(1).se(-1).se(0);
  w.ue(4).u(1, 0).ue(s.widthMbs - 1).ue(s.heightMapUnits - 1);
  const fmo = s.frameMbsOnly ?? true;
  w.u(1, fmo ? 1 : 0);
  if (!fmo) w.u(1, 0);
  w.u(1, 1);
  if (s.crop) {
    w.u(1, 1);
    for (const c of s.crop) w.ue(c);
  } else {
    w.u(1, 0);
  }
  w.u(1, 0); // vui_parameters_present_flag
  return toNal(0x67, w.finish());
}

function buildAvcC(sps: Buffer[], pps: Buffer[], profile = 100, level = 31): Buffer {
  const parts: Buffer[] = [Buffer.from([1, profile, 0, level, 0xff, 0xe0 | sps.length])];
  for (const s of sps) parts.push(Buffer.from([s.length >> 8, s.length & 0xff]), s);
  parts.push(Buffer.from([pps.length]));
  for (const p of pps) parts.push(Buffer.from([p.length >> 8, p.length & 0xff]), p);
  return Buffer.concat(parts);
}

const PPS = Buffer.from([0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0]);

describe('H.264 SPS', () => {
  test('1280x720 High 3.1 (hand-made)', () => {
    const sps = parseH264Sps(buildSps({ profile: 100, level: 31, widthMbs: 80, heightMapUnits: 45 }));
    assert.equal(sps.profileIdc, 100);
    assert.equal(sps.levelIdc, 31);
    assert.equal(sps.chromaFormatIdc, 1);
    assert.equal(sps.frameMbsOnly, true);
    assert.equal(sps.maxNumRefFrames, 4);
    assert.equal(sps.width, 1280);
    assert.equal(sps.height, 720);
  });

  test('1920x1080 progressive: 1088 coded, cropped by 8', () => {
    const sps = parseH264Sps(buildSps({ profile: 77, level: 40, widthMbs: 120, heightMapUnits: 68, crop: [0, 0, 0, 4] }));
    assert.equal(sps.codedHeight, 1088);
    assert.deepEqual([sps.width, sps.height], [1920, 1080]);
  });

  test('1080i: field map units, crop unit doubles', () => {
    const sps = parseH264Sps(
      buildSps({ profile: 100, level: 40, widthMbs: 120, heightMapUnits: 34, frameMbsOnly: false, crop: [0, 0, 0, 2] }),
    );
    assert.equal(sps.frameMbsOnly, false);
    assert.deepEqual([sps.width, sps.height], [1920, 1080]);
  });

  test('scaling matrices, poc type 1 and 4:4:4 cropping are walked correctly', () => {
    const sps = parseH264Sps(
      buildSps({ profile: 244, level: 51, widthMbs: 40, heightMapUnits: 30, scaling: true, pocType: 1, chroma: 3, crop: [1, 1, 0, 0] }),
    );
    assert.equal(sps.chromaFormatIdc, 3);
    assert.deepEqual([sps.width, sps.height], [638, 480]);
  });

  test('real x264 SPS (baseline 720p fixture, with emulation prevention)', () => {
    const cfg = parseAvcDecoderConfig(fixture('h264-baseline-720p.avcc'));
    assert.equal(cfg.sps.length, 1);
    assert.equal(cfg.pps.length, 1);
    assert.equal(cfg.lengthSizeMinusOne, 3);
    assert.ok(cfg.sps[0]!.includes(Buffer.from([0, 0, 3])));
    const sps = parseH264Sps(cfg.sps[0]!);
    assert.deepEqual([sps.profileIdc, sps.levelIdc, sps.width, sps.height], [66, 31, 1280, 720]);
  });

  test('rejects a non-SPS NAL and truncated SPS with CodecError', () => {
    assert.throws(() => parseH264Sps(PPS), CodecError);
    const good = buildSps({ profile: 100, level: 31, widthMbs: 80, heightMapUnits: 45 });
    for (let n = 0; n < good.length - 1; n++) assert.throws(() => parseH264Sps(good.subarray(0, n)), CodecError);
  });
});

describe('AVCDecoderConfigurationRecord', () => {
  test('parses SPS/PPS lists as subarrays', () => {
    const sps = buildSps({ profile: 100, level: 31, widthMbs: 80, heightMapUnits: 45 });
    const rec = buildAvcC([sps], [PPS, PPS]);
    const cfg = parseAvcDecoderConfig(rec);
    assert.equal(cfg.profileIdc, 100);
    assert.equal(cfg.levelIdc, 31);
    assert.equal(cfg.lengthSizeMinusOne, 3);
    assert.deepEqual(cfg.sps, [sps]);
    assert.deepEqual(cfg.pps, [PPS, PPS]);
    assert.equal(cfg.sps[0]!.buffer, rec.buffer);
  });

  test('describeAvcConfig gives SRS names', () => {
    const rec = buildAvcC([buildSps({ profile: 100, level: 31, widthMbs: 80, heightMapUnits: 45 })], [PPS]);
    assert.deepEqual(describeAvcConfig(rec), { codec: 'H264', profile: 'High', level: '3.1', width: 1280, height: 720 });
    assert.deepEqual(describeAvcConfig(fixture('h264-baseline-720p.avcc')), {
      codec: 'H264',
      profile: 'Baseline',
      level: '3.1',
      width: 1280,
      height: 720,
    });
  });

  test('unparseable SPS keeps profile/level from the record', () => {
    const rec = buildAvcC([Buffer.from([0x67, 0x4d])], [PPS], 77, 40);
    assert.deepEqual(describeAvcConfig(rec), { codec: 'H264', profile: 'Main', level: '4', width: 0, height: 0 });
  });

  test('truncated or invalid records throw CodecError', () => {
    const rec = buildAvcC([buildSps({ profile: 100, level: 31, widthMbs: 80, heightMapUnits: 45 })], [PPS]);
    for (let n = 0; n < rec.length; n++) assert.throws(() => parseAvcDecoderConfig(rec.subarray(0, n)), CodecError);
    const bad = Buffer.from(rec);
    bad[0] = 2;
    assert.throws(() => parseAvcDecoderConfig(bad), CodecError);
  });

  test('fuzz: mutated records parse or throw CodecError, and an intact SPS still says 1280x720', () => {
    const base = fixture('h264-baseline-720p.avcc');
    // Bytes 5..32: the SPS count, its length and the SPS itself (what the dimensions come from).
    const SPS_FROM = 5;
    const SPS_END = 8 + base.readUInt16BE(6);
    let seed = 1;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let intactParsed = 0;
    let mutatedParsed = 0;
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(base);
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.2 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
      const spsIntact = cut.length >= SPS_END && cut.subarray(SPS_FROM, SPS_END).equals(base.subarray(SPS_FROM, SPS_END));
      let info: ReturnType<typeof describeAvcConfig>;
      try {
        info = describeAvcConfig(cut);
      } catch (e) {
        assert.ok(e instanceof CodecError, String(e));
        continue;
      }
      if (spsIntact) {
        // Damage elsewhere (header, PPS) must not change what the SPS says.
        assert.deepEqual([info.width, info.height, info.profile], [1280, 720, 'Baseline'], `case ${i}: ${cut.toString('hex')}`);
        intactParsed++;
      } else {
        // A damaged SPS gives either no size (unreadable) or a whole picture size, never half of one.
        assert.ok(Number.isInteger(info.width) && Number.isInteger(info.height), `case ${i}`);
        assert.equal(info.width > 0, info.height > 0, `case ${i}: ${info.width}x${info.height}`);
        mutatedParsed++;
      }
    }
    // Both branches ran often enough to mean something.
    assert.ok(intactParsed > 100 && mutatedParsed > 100, `intact ${intactParsed}, mutated ${mutatedParsed}`);
  });
});

describe('profile and level names', () => {
  test('profiles as SRS spells them', () => {
    assert.equal(h264ProfileName(66), 'Baseline');
    assert.equal(h264ProfileName(77), 'Main');
    assert.equal(h264ProfileName(88), 'Extended');
    assert.equal(h264ProfileName(100), 'High');
    assert.equal(h264ProfileName(110), 'High(10)');
    assert.equal(h264ProfileName(122), 'High(422)');
    assert.equal(h264ProfileName(144), 'High(444)');
    assert.equal(h264ProfileName(244), 'High(444+Predictive)');
    assert.equal(h264ProfileName(1), 'Other');
  });
  test('levels', () => {
    assert.equal(h264LevelName(10), '1');
    assert.equal(h264LevelName(11), '1.1');
    assert.equal(h264LevelName(30), '3');
    assert.equal(h264LevelName(31), '3.1');
    assert.equal(h264LevelName(51), '5.1');
    assert.equal(h264LevelName(9), '1b');
    assert.equal(h264LevelName(0), 'Other');
  });
});

describe('length-prefixed NAL units', () => {
  const idr = Buffer.from([0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x65, 0x88, 0x84]);
  const nonIdr = Buffer.from([0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x41, 0x9a, 0x00]);

  test('iterates NAL units as subarrays', () => {
    const units = [...nalUnits(idr)];
    assert.deepEqual(units, [Buffer.from([0x09, 0xf0]), Buffer.from([0x65, 0x88, 0x84])]);
    const two = Buffer.from([0, 1, 0x67, 0, 2, 0x68, 0xce]);
    assert.deepEqual([...nalUnits(two, 2)], [Buffer.from([0x67]), Buffer.from([0x68, 0xce])]);
    assert.deepEqual([...nalUnits(Buffer.alloc(0))], []);
  });

  test('finds IDR slices', () => {
    assert.equal(h264HasIdr(idr), true);
    assert.equal(h264HasIdr(nonIdr), false);
  });

  test('overrunning lengths throw CodecError', () => {
    const bad = Buffer.from([0, 0, 0, 9, 0x65, 0x88]);
    assert.throws(() => [...nalUnits(bad)], CodecError);
    assert.throws(() => h264HasIdr(bad), CodecError);
    assert.throws(() => h264HasIdr(Buffer.from([0, 0])), CodecError);
  });
});
