import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CodecError } from '../../src/codec/codec-error.js';
import { av1LevelName, describeAv1Config, findObu, parseAv1Config, parseAv1SequenceHeader } from '../../src/codec/av1.js';
import { describeMpegAudio, parseMpegAudioHeader } from '../../src/codec/mp3.js';
import { describeOpusHead, parseOpusHead } from '../../src/codec/opus.js';
import { describeAudio, describeVideoConfig } from '../../src/codec/describe-codec.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url));

describe('AV1', () => {
  test('libaom 160x120 av1C', () => {
    const rec = fixture('av1-160x120.av1c');
    const c = parseAv1Config(rec);
    assert.equal(c.seqProfile, 0);
    assert.equal(c.seqLevelIdx0, 0);
    assert.ok(c.sequenceHeader);
    const s = parseAv1SequenceHeader(c.sequenceHeader);
    assert.deepEqual([s.maxFrameWidth, s.maxFrameHeight], [160, 120]);
    assert.deepEqual(describeAv1Config(rec), { codec: 'AV1', profile: 'Main', level: '2.0', width: 160, height: 120 });
  });

  test('record without config OBUs is tolerated', () => {
    const c = parseAv1Config(Buffer.from([0x81, 0x2d, 0x40, 0x00]));
    assert.equal(c.seqProfile, 1);
    assert.equal(c.seqLevelIdx0, 13);
    assert.equal(c.highBitdepth, true);
    assert.equal(c.sequenceHeader, null);
    assert.deepEqual(describeAv1Config(Buffer.from([0x81, 0x2d, 0x40, 0x00])), {
      codec: 'AV1',
      profile: 'High',
      level: '5.1',
      width: 0,
      height: 0,
    });
  });

  test('OBU walk and level names', () => {
    // temporal delimiter (type 2, has_size, size 0) then a padding OBU (type 15) of 2 bytes
    const obus = Buffer.from([0x12, 0x00, 0x7a, 0x02, 0xaa, 0xbb]);
    assert.deepEqual(findObu(obus, 15), Buffer.from([0xaa, 0xbb]));
    assert.equal(findObu(obus, 1), null);
    assert.throws(() => findObu(Buffer.from([0x7a, 0x05, 0xaa]), 1), CodecError);
    assert.equal(av1LevelName(0), '2.0');
    assert.equal(av1LevelName(9), '4.1');
    assert.equal(av1LevelName(31), 'Other');
  });

  test('bad records throw CodecError; fuzz stays within CodecError', () => {
    assert.throws(() => parseAv1Config(Buffer.from([0x01, 0, 0, 0])), CodecError);
    assert.throws(() => parseAv1Config(Buffer.from([0x81, 0])), CodecError);
    const base = fixture('av1-160x120.av1c');
    let seed = 3;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(base);
      b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      try {
        describeAv1Config(b.subarray(0, 4 + Math.floor(rand() * (b.length - 3))));
      } catch (e) {
        assert.ok(e instanceof CodecError, String(e));
      }
    }
  });
});

describe('MPEG audio header', () => {
  test('MPEG-1 layer III 64 kbit/s 48 kHz mono (lame)', () => {
    const h = parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0x54, 0xc0]));
    assert.deepEqual(
      [h.version, h.layer, h.bitrate, h.sampleRate, h.channels, h.frameLength, h.samplesPerFrame],
      [1, 3, 64, 48000, 1, 192, 1152],
    );
  });

  test('MPEG-1 layer III 128 kbit/s 44.1 kHz stereo with padding', () => {
    const h = parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0x92, 0x00]));
    assert.deepEqual([h.bitrate, h.sampleRate, h.channels, h.padding, h.frameLength], [128, 44100, 2, true, 418]);
  });

  test('MPEG-2 layer III 22.05 kHz and layer I/II lengths', () => {
    const m2 = parseMpegAudioHeader(Buffer.from([0xff, 0xf3, 0x40, 0xc4])); // 32 kbit/s, 22050, mono
    assert.deepEqual([m2.version, m2.bitrate, m2.sampleRate, m2.samplesPerFrame, m2.frameLength], [2, 32, 22050, 576, 104]);
    const l2 = parseMpegAudioHeader(Buffer.from([0xff, 0xfd, 0x84, 0x00])); // L2 128k 48k
    assert.deepEqual([l2.layer, l2.frameLength], [2, 384]);
    const l1 = parseMpegAudioHeader(Buffer.from([0xff, 0xff, 0x14, 0x00])); // L1 32k 48k
    assert.deepEqual([l1.layer, l1.frameLength, l1.samplesPerFrame], [1, 32, 384]);
    assert.deepEqual(describeMpegAudio(Buffer.from([0xff, 0xfb, 0x54, 0xc0])), {
      codec: 'MP3',
      profile: 'Other',
      sampleRate: 48000,
      channels: 1,
    });
  });

  test('errors', () => {
    assert.throws(() => parseMpegAudioHeader(Buffer.from([0xff, 0xfb])), CodecError);
    assert.throws(() => parseMpegAudioHeader(Buffer.from([0xfe, 0xfb, 0x54, 0xc0])), CodecError);
    assert.throws(() => parseMpegAudioHeader(Buffer.from([0xff, 0xeb, 0x54, 0xc0])), CodecError); // reserved version
    assert.throws(() => parseMpegAudioHeader(Buffer.from([0xff, 0xf9, 0x54, 0xc0])), CodecError); // reserved layer
    assert.throws(() => parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0xf4, 0xc0])), CodecError); // bitrate 15
    assert.throws(() => parseMpegAudioHeader(Buffer.from([0xff, 0xfb, 0x5c, 0xc0])), CodecError); // rate 3
  });
});

describe('Opus and dispatch', () => {
  const head = Buffer.concat([Buffer.from('OpusHead', 'latin1'), Buffer.from([1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0])]);

  test('OpusHead', () => {
    const h = parseOpusHead(head);
    assert.deepEqual([h.channels, h.preSkip, h.inputSampleRate, h.mappingFamily], [2, 312, 48000, 0]);
    assert.deepEqual(describeOpusHead(head), { codec: 'Opus', profile: 'Other', sampleRate: 48000, channels: 2 });
    assert.throws(() => parseOpusHead(head.subarray(0, 18)), CodecError);
    assert.throws(() => parseOpusHead(Buffer.concat([Buffer.from('OpusTags'), head.subarray(8)])), CodecError);
  });

  test('describeVideoConfig / describeAudio dispatch by codec', () => {
    assert.equal(describeVideoConfig('HEVC', fixture('hevc-160x120.hvcc')).width, 160);
    assert.equal(describeVideoConfig('H264', fixture('h264-baseline-720p.avcc')).height, 720);
    assert.equal(describeVideoConfig('AV1', fixture('av1-160x120.av1c')).width, 160);
    assert.deepEqual(describeVideoConfig('VP6', Buffer.alloc(0)), { codec: 'VP6', profile: 'Other', level: 'Other', width: 0, height: 0 });
    assert.equal(describeAudio('AAC', Buffer.from([0x12, 0x10])).sampleRate, 44100);
    assert.equal(describeAudio('Opus', head).channels, 2);
    assert.equal(describeAudio('MP3', Buffer.from([0xff, 0xfb, 0x54, 0xc0])).sampleRate, 48000);
    assert.deepEqual(describeAudio('Other', Buffer.alloc(0)), { codec: 'Other', profile: 'Other', sampleRate: 0, channels: 0 });
  });
});
