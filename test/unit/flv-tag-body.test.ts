import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FlvError } from '../../src/format/flv-error.js';
import {
  FourCC,
  buildAacBody,
  buildExAudioBody,
  buildExVideoBody,
  buildLegacyVideoBody,
  buildMp3Body,
  isOnMetaData,
  parseFlvAudioBody,
  parseFlvVideoBody,
} from '../../src/format/flv-tag-body.js';

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);
const fourcc = (s: string): Buffer => Buffer.from(s, 'latin1');
const NALU = b(0, 0, 0, 2, 0x65, 0x88);

describe('legacy video bodies', () => {
  test('AVC sequence header', () => {
    const body = Buffer.concat([b(0x17, 0, 0, 0, 0), b(1, 0x64, 0, 0x1f)]);
    const v = parseFlvVideoBody(body)!;
    assert.deepEqual(
      { ...v, payload: [...v.payload] },
      { codec: 'H264', keyframe: true, header: true, endOfSequence: false, cts: 0, payload: [1, 0x64, 0, 0x1f] },
    );
    assert.equal(v.payload.buffer, body.buffer);
  });

  test('AVC NALU inter frame with positive and negative composition time', () => {
    const v = parseFlvVideoBody(Buffer.concat([b(0x27, 1, 0, 0, 80), NALU]))!;
    assert.deepEqual([v.codec, v.keyframe, v.header, v.cts], ['H264', false, false, 80]);
    assert.deepEqual(v.payload, NALU);
    assert.equal(parseFlvVideoBody(Buffer.concat([b(0x27, 1, 0xff, 0xff, 0xd8), NALU]))!.cts, -40);
  });

  test('AVC end of sequence', () => {
    const v = parseFlvVideoBody(b(0x17, 2, 0, 0, 0))!;
    assert.equal(v.endOfSequence, true);
    assert.equal(v.payload.length, 0);
  });

  test('codec id 12 is HEVC; VP6, H.263 and unknown ids', () => {
    assert.equal(parseFlvVideoBody(Buffer.concat([b(0x1c, 1, 0, 0, 0), NALU]))!.codec, 'HEVC');
    assert.equal(parseFlvVideoBody(b(0x14, 0, 0xaa))!.codec, 'VP6');
    assert.equal(parseFlvVideoBody(b(0x25, 0, 0xaa))!.codec, 'VP6');
    const h263 = parseFlvVideoBody(b(0x12, 0xaa, 0xbb))!;
    assert.deepEqual([h263.codec, h263.keyframe, [...h263.payload]], ['Other', true, [0xaa, 0xbb]]);
    assert.equal(parseFlvVideoBody(b(0x42, 0))!.keyframe, true); // generated keyframe
  });

  test('info/command frames and empty bodies give null', () => {
    assert.equal(parseFlvVideoBody(b(0x57, 0)), null);
    assert.equal(parseFlvVideoBody(b()), null);
  });

  test('truncated / invalid AVC bodies throw FlvError', () => {
    assert.throws(() => parseFlvVideoBody(b(0x17, 1, 0, 0)), FlvError);
    assert.throws(() => parseFlvVideoBody(b(0x17, 3, 0, 0, 0)), FlvError);
  });
});

describe('enhanced RTMP video bodies', () => {
  test('hvc1 SequenceStart, CodedFrames (cts), CodedFramesX, SequenceEnd', () => {
    const cfg = b(1, 1, 0x60, 0, 0);
    const seq = parseFlvVideoBody(Buffer.concat([b(0x90), fourcc('hvc1'), cfg]))!;
    assert.deepEqual([seq.codec, seq.keyframe, seq.header, [...seq.payload]], ['HEVC', true, true, [...cfg]]);
    const coded = parseFlvVideoBody(Buffer.concat([b(0x91), fourcc('hvc1'), b(0, 0, 40), NALU]))!;
    assert.deepEqual([coded.header, coded.keyframe, coded.cts], [false, true, 40]);
    assert.deepEqual(coded.payload, NALU);
    const x = parseFlvVideoBody(Buffer.concat([b(0xa3), fourcc('hvc1'), NALU]))!;
    assert.deepEqual([x.keyframe, x.cts], [false, 0]);
    assert.deepEqual(x.payload, NALU);
    const end = parseFlvVideoBody(Buffer.concat([b(0x92), fourcc('hvc1')]))!;
    assert.equal(end.endOfSequence, true);
  });

  test('av01 and vp09 CodedFrames carry no composition time; avc1 does', () => {
    const obu = b(0x12, 0x00, 0x32, 0x01, 0xaa);
    const av1 = parseFlvVideoBody(Buffer.concat([b(0x91), fourcc('av01'), obu]))!;
    assert.deepEqual([av1.codec, av1.cts], ['AV1', 0]);
    assert.deepEqual(av1.payload, obu);
    assert.equal(parseFlvVideoBody(Buffer.concat([b(0xa1), fourcc('vp09'), obu]))!.codec, 'VP9');
    assert.equal(parseFlvVideoBody(Buffer.concat([b(0xa1), fourcc('vp08'), obu]))!.codec, 'VP8');
    assert.equal(parseFlvVideoBody(Buffer.concat([b(0xa1), fourcc('xxxx'), obu]))!.codec, 'Other');
    const avc = parseFlvVideoBody(Buffer.concat([b(0xa1), fourcc('avc1'), b(0xff, 0xff, 0xff), NALU]))!;
    assert.deepEqual([avc.codec, avc.cts], ['H264', -1]);
  });

  test('Metadata, MPEG2TSSequenceStart and command frames give null', () => {
    assert.equal(parseFlvVideoBody(Buffer.concat([b(0x94), fourcc('hvc1'), b(2, 0, 9)])), null);
    assert.equal(parseFlvVideoBody(Buffer.concat([b(0x95), fourcc('av01'), b(0x80)])), null);
    assert.equal(parseFlvVideoBody(Buffer.concat([b(0xd1), fourcc('hvc1'), b(0)])), null);
  });

  test('ModEx prefixes (short and escaped sizes) are skipped', () => {
    // ModEx, size 3 (UI8 2), TimestampOffsetNano, next type CodedFramesX
    const short = Buffer.concat([b(0x97, 2, 0x01, 0x02, 0x03, 0x03), fourcc('hvc1'), NALU]);
    const v = parseFlvVideoBody(short)!;
    assert.deepEqual([v.codec, v.keyframe, v.cts], ['HEVC', true, 0]);
    assert.deepEqual(v.payload, NALU);
    // escaped: UI8 255 → UI16 + 1 = 300 bytes, then chained ModEx, then SequenceStart
    const long = Buffer.concat([b(0x97, 255, 0x01, 0x2b), Buffer.alloc(300), b(0x07, 0, 0xee, 0x00), fourcc('av01'), b(0x81)]);
    const s = parseFlvVideoBody(long)!;
    assert.deepEqual([s.codec, s.header, [...s.payload]], ['AV1', true, [0x81]]);
    assert.throws(() => parseFlvVideoBody(b(0x97, 5, 1, 2)), FlvError);
  });

  test('Multitrack: one track, and the first of many tracks', () => {
    const one = Buffer.concat([b(0x96, 0x03), fourcc('hvc1'), b(0), NALU]);
    const v1 = parseFlvVideoBody(one)!;
    assert.deepEqual([v1.codec, v1.header], ['HEVC', false]);
    assert.deepEqual(v1.payload, NALU);
    const many = Buffer.concat([b(0x96, 0x13), fourcc('hvc1'), b(0, 0, 0, 6), NALU, b(1, 0, 0, 2, 0xde, 0xad)]);
    assert.deepEqual(parseFlvVideoBody(many)!.payload, NALU);
    const manyCodecs = Buffer.concat([b(0x96, 0x21), fourcc('avc1'), b(0, 0, 0, 9, 0, 0, 5), NALU, fourcc('av01'), b(1, 0, 0, 1, 0xaa)]);
    const v3 = parseFlvVideoBody(manyCodecs)!;
    assert.deepEqual([v3.codec, v3.cts], ['H264', 5]);
    assert.deepEqual(v3.payload, NALU);
    assert.throws(() => parseFlvVideoBody(Buffer.concat([b(0x96, 0x13), fourcc('hvc1'), b(0, 0, 0, 60), NALU])), FlvError);
    assert.throws(() => parseFlvVideoBody(Buffer.concat([b(0x96, 0x36), fourcc('hvc1'), b(0)])), FlvError);
  });

  test('truncated enhanced bodies and unknown packet types throw FlvError', () => {
    assert.throws(() => parseFlvVideoBody(b(0x90, 0x68, 0x76)), FlvError);
    assert.throws(() => parseFlvVideoBody(Buffer.concat([b(0x91), fourcc('hvc1'), b(0)])), FlvError);
    assert.throws(() => parseFlvVideoBody(Buffer.concat([b(0x98), fourcc('hvc1')])), FlvError);
  });
});

describe('audio bodies', () => {
  test('AAC sequence header and raw frame', () => {
    const h = parseFlvAudioBody(b(0xaf, 0, 0x12, 0x10))!;
    assert.deepEqual([h.codec, h.header, [...h.payload], h.soundRate, h.channels], ['AAC', true, [0x12, 0x10], 44100, 2]);
    const r = parseFlvAudioBody(b(0xae, 1, 0x21, 0x1b))!;
    assert.deepEqual([r.header, r.channels, [...r.payload]], [false, 1, [0x21, 0x1b]]);
    assert.throws(() => parseFlvAudioBody(b(0xaf)), FlvError);
    assert.throws(() => parseFlvAudioBody(b(0xaf, 2)), FlvError);
  });

  test('MP3, MP3 8 kHz and other formats', () => {
    const m = parseFlvAudioBody(b(0x2a, 0xff, 0xf3))!;
    assert.deepEqual([m.codec, m.soundRate, m.channels, m.header], ['MP3', 22050, 1, false]);
    assert.deepEqual([...m.payload], [0xff, 0xf3]);
    assert.equal(parseFlvAudioBody(b(0xe2, 0xff))!.soundRate, 8000);
    assert.equal(parseFlvAudioBody(b(0x72, 0xd5))!.codec, 'Other');
    assert.equal(parseFlvAudioBody(b()), null);
  });

  test('enhanced audio: Opus, mp4a, .mp3, multitrack, SequenceEnd', () => {
    const opusHead = Buffer.concat([fourcc('OpusHead'), b(1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0)]);
    const oh = parseFlvAudioBody(Buffer.concat([b(0x90), fourcc('Opus'), opusHead]))!;
    assert.deepEqual([oh.codec, oh.header, oh.soundRate, oh.channels], ['Opus', true, 48000, 2]);
    assert.deepEqual(oh.payload, opusHead);
    const of = parseFlvAudioBody(Buffer.concat([b(0x91), fourcc('Opus'), b(0xfc, 0xff)]))!;
    assert.deepEqual([of.header, [...of.payload]], [false, [0xfc, 0xff]]);
    assert.equal(parseFlvAudioBody(Buffer.concat([b(0x90), fourcc('mp4a'), b(0x12, 0x10)]))!.codec, 'AAC');
    assert.equal(parseFlvAudioBody(Buffer.concat([b(0x91), fourcc('.mp3'), b(0xff)]))!.codec, 'MP3');
    assert.equal(parseFlvAudioBody(Buffer.concat([b(0x91), fourcc('fLaC'), b(0xff)]))!.codec, 'Other');
    const mt = parseFlvAudioBody(Buffer.concat([b(0x95, 0x11), fourcc('Opus'), b(0, 0, 0, 1, 0xfc, 1, 0, 0, 1, 0xfd)]))!;
    assert.deepEqual([mt.codec, [...mt.payload]], ['Opus', [0xfc]]);
    assert.equal(parseFlvAudioBody(Buffer.concat([b(0x92), fourcc('Opus')])), null);
    assert.equal(parseFlvAudioBody(Buffer.concat([b(0x94), fourcc('Opus'), b(0, 2)])), null);
    assert.throws(() => parseFlvAudioBody(Buffer.concat([b(0x93), fourcc('Opus')])), FlvError);
    assert.throws(() => parseFlvAudioBody(b(0x91, 0x4f)), FlvError);
  });
});

describe('body builders round trip through the parsers', () => {
  test('legacy AVC', () => {
    const body = buildLegacyVideoBody(7, false, false, -33, NALU);
    assert.deepEqual(body.subarray(0, 5), b(0x27, 1, 0xff, 0xff, 0xdf));
    const v = parseFlvVideoBody(body)!;
    assert.deepEqual([v.codec, v.keyframe, v.header, v.cts], ['H264', false, false, -33]);
    assert.deepEqual(v.payload, NALU);
    assert.deepEqual(buildLegacyVideoBody(7, false, true, 0, b(1)), b(0x17, 0, 0, 0, 0, 1));
  });

  test('enhanced HEVC picks CodedFrames only for non-zero cts; AV1 always CodedFrames', () => {
    const withCts = buildExVideoBody(FourCC.hvc1, true, false, 80, NALU);
    assert.equal(withCts[0], 0x91);
    assert.equal(parseFlvVideoBody(withCts)!.cts, 80);
    const noCts = buildExVideoBody(FourCC.hvc1, false, false, 0, NALU);
    assert.equal(noCts[0], 0xa3);
    assert.equal(noCts.length, 5 + NALU.length);
    assert.equal(buildExVideoBody(FourCC.hvc1, true, true, 0, b(1))[0], 0x90);
    const av1 = buildExVideoBody(FourCC.av01, false, false, 0, b(0x12, 0));
    assert.equal(av1[0], 0xa1);
    assert.deepEqual([...parseFlvVideoBody(av1)!.payload], [0x12, 0]);
  });

  test('audio builders', () => {
    assert.deepEqual(buildAacBody(true, b(0x12, 0x10)), b(0xaf, 0, 0x12, 0x10));
    const mp3 = parseFlvAudioBody(buildMp3Body(b(0xff, 0xfb), 22050, 1))!;
    assert.deepEqual([mp3.codec, mp3.soundRate, mp3.channels], ['MP3', 22050, 1]);
    assert.equal(parseFlvAudioBody(buildMp3Body(b(0xff), 8000, 2))!.soundRate, 8000);
    const opus = parseFlvAudioBody(buildExAudioBody(FourCC.Opus, false, b(0xfc)))!;
    assert.deepEqual([opus.codec, opus.header, [...opus.payload]], ['Opus', false, [0xfc]]);
  });
});

test('isOnMetaData', () => {
  assert.equal(isOnMetaData(Buffer.concat([b(2, 0, 10), fourcc('onMetaData'), b(8, 0, 0, 0, 0)])), true);
  assert.equal(isOnMetaData(Buffer.concat([b(2, 0, 13), fourcc('@setDataFrame')])), false);
  assert.equal(isOnMetaData(b(2, 0)), false);
});

test('fuzz: random bodies parse, return null, or throw FlvError', () => {
  let seed = 11;
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const firsts = [0x17, 0x27, 0x1c, 0x90, 0x91, 0x93, 0x96, 0x97, 0xa1, 0xaf, 0x2f, 0x95, 0x57];
  for (let i = 0; i < 20000; i++) {
    const body = Buffer.alloc(Math.floor(rand() * 24));
    for (let j = 0; j < body.length; j++) body[j] = Math.floor(rand() * 256);
    if (body.length && rand() < 0.6) body[0] = firsts[Math.floor(rand() * firsts.length)]!;
    if (body.length > 5 && rand() < 0.5) body.write(['hvc1', 'av01', 'Opus', 'avc1'][i & 3]!, 1, 'latin1');
    for (const parse of [parseFlvVideoBody, parseFlvAudioBody]) {
      try {
        const r = parse(body);
        if (r) assert.ok(r.payload.length <= body.length);
      } catch (e) {
        assert.ok(e instanceof FlvError, String(e));
      }
    }
  }
});
