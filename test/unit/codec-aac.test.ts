import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CodecError } from '../../src/codec/codec-error.js';
import {
  buildAdtsHeader,
  buildAudioSpecificConfig,
  describeAacConfig,
  parseAdtsHeader,
  parseAudioSpecificConfig,
  writeAdtsHeader,
} from '../../src/codec/aac.js';

describe('AudioSpecificConfig', () => {
  test('AAC-LC 44100 stereo (0x12 0x10)', () => {
    const c = parseAudioSpecificConfig(Buffer.from([0x12, 0x10]));
    assert.equal(c.objectType, 2);
    assert.equal(c.profile, 'LC');
    assert.equal(c.samplingIndex, 4);
    assert.equal(c.sampleRate, 44100);
    assert.equal(c.channels, 2);
    assert.deepEqual(describeAacConfig(Buffer.from([0x12, 0x10])), { codec: 'AAC', profile: 'LC', sampleRate: 44100, channels: 2 });
  });

  test('AAC-LC 48000 mono (0x11 0x88)', () => {
    const c = parseAudioSpecificConfig(Buffer.from([0x11, 0x88]));
    assert.deepEqual([c.profile, c.sampleRate, c.channels], ['LC', 48000, 1]);
  });

  test('HE-AAC explicit signalling: 24 kHz core, 48 kHz SBR', () => {
    // objectType 5, index 6 (24000), channels 2, ext index 3 (48000), core type 2
    const c = parseAudioSpecificConfig(Buffer.from([0x2b, 0x11, 0x88, 0x00]));
    assert.deepEqual([c.objectType, c.profile, c.sampleRate, c.extensionSampleRate, c.coreObjectType], [5, 'HE', 24000, 48000, 2]);
    assert.equal(describeAacConfig(Buffer.from([0x2b, 0x11, 0x88, 0x00])).sampleRate, 48000);
  });

  test('HEv2 (PS) and Main/SSR names', () => {
    // objectType 29: 11101, index 6, ch 1, ext idx 3, core 2
    const v2 = parseAudioSpecificConfig(Buffer.from([0xeb, 0x09, 0x88, 0x00]));
    assert.equal(v2.profile, 'HEv2');
    assert.equal(v2.channels, 1);
    assert.equal(parseAudioSpecificConfig(buildAudioSpecificConfig(1, 4, 2)).profile, 'Main');
    assert.equal(parseAudioSpecificConfig(buildAudioSpecificConfig(3, 4, 2)).profile, 'SSR');
    assert.equal(parseAudioSpecificConfig(buildAudioSpecificConfig(4, 4, 2)).profile, 'Other');
  });

  test('explicit 24-bit sample rate and escape object type', () => {
    // LC, index 15, rate 44056 (0x00ac18), ch 2: 00010 1111 <24 bits> 0010 ...
    const bits = '00010' + '1111' + (44056).toString(2).padStart(24, '0') + '0010' + '000';
    const buf = Buffer.alloc(Math.ceil(bits.length / 8));
    for (let i = 0; i < bits.length; i++) if (bits[i] === '1') buf[i >> 3]! |= 0x80 >> (i & 7);
    const c = parseAudioSpecificConfig(buf);
    assert.deepEqual([c.samplingIndex, c.sampleRate, c.channels], [15, 44056, 2]);
    // objectType 31 escape: 11111 + 6 bits (42 → 74)
    const esc = parseAudioSpecificConfig(Buffer.from([0xfd, 0x48, 0x80]));
    assert.equal(esc.objectType, 74);
    assert.equal(esc.profile, 'Other');
  });

  test('channel config 7 means 8 channels', () => {
    assert.equal(parseAudioSpecificConfig(buildAudioSpecificConfig(2, 3, 7)).channels, 8);
  });

  test('bad configs throw CodecError', () => {
    assert.throws(() => parseAudioSpecificConfig(Buffer.from([0x12])), CodecError);
    assert.throws(() => parseAudioSpecificConfig(Buffer.from([0x16, 0x90])), CodecError); // index 13 reserved
    assert.throws(() => parseAudioSpecificConfig(Buffer.from([0x00, 0x10])), CodecError); // object type 0
    assert.throws(() => parseAudioSpecificConfig(Buffer.from([0x17, 0x80])), CodecError); // explicit rate cut
  });

  test('fuzz: random configs parse or throw CodecError', () => {
    let seed = 5;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.alloc(Math.floor(rand() * 8));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
      try {
        const c = parseAudioSpecificConfig(b);
        assert.ok(c.sampleRate > 0);
      } catch (e) {
        assert.ok(e instanceof CodecError, String(e));
      }
    }
  });
});

describe('ADTS', () => {
  test('known header bytes for LC 44100 stereo, 100-byte payload', () => {
    const h = buildAdtsHeader(parseAudioSpecificConfig(Buffer.from([0x12, 0x10])), 100);
    // frame length 107 = 0b00000_01101011
    assert.deepEqual(h, Buffer.from([0xff, 0xf1, 0x50, 0x80, 0x0d, 0x7f, 0xfc]));
  });

  test('round trip build → parse', () => {
    for (const [ot, idx, ch, len] of [
      [2, 3, 1, 0],
      [1, 11, 6, 2000],
      [2, 0, 7, 8184],
      [5, 6, 2, 10],
    ] as const) {
      const out = Buffer.alloc(9);
      writeAdtsHeader(out, 2, ot, idx, ch, len);
      const h = parseAdtsHeader(out, 2);
      assert.equal(h.objectType, ot > 4 ? 2 : ot);
      assert.equal(h.samplingIndex, idx);
      assert.equal(h.channelConfig, ch);
      assert.equal(h.frameLength, len + 7);
      assert.equal(h.headerLength, 7);
      assert.equal(h.rawBlocks, 1);
    }
  });

  test('HE-AAC config uses the core type and rate', () => {
    const h = parseAdtsHeader(buildAdtsHeader(parseAudioSpecificConfig(Buffer.from([0x2b, 0x11, 0x88, 0x00])), 50));
    assert.deepEqual([h.objectType, h.sampleRate], [2, 24000]);
  });

  test('errors', () => {
    assert.throws(() => parseAdtsHeader(Buffer.from([0xff, 0xf1, 0x50])), CodecError);
    assert.throws(() => parseAdtsHeader(Buffer.from([0xff, 0xe1, 0x50, 0x80, 0x0d, 0x7f, 0xfc])), CodecError);
    assert.throws(() => parseAdtsHeader(Buffer.from([0xff, 0xf1, 0x50, 0x80, 0x00, 0x1f, 0xfc])), CodecError); // length 0
    assert.throws(() => writeAdtsHeader(Buffer.alloc(7), 0, 2, 4, 2, 8185), CodecError);
    assert.throws(() => writeAdtsHeader(Buffer.alloc(7), 0, 2, 15, 2, 10), CodecError);
    assert.throws(() => writeAdtsHeader(Buffer.alloc(6), 0, 2, 4, 2, 10), CodecError);
  });
});
