import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { describeVideoConfig } from '../../src/codec/describe-codec.js';
import { FlvDemuxer } from '../../src/format/flv-demuxer.js';
import { FlvError } from '../../src/format/flv-error.js';
import { FLV_TAG, flvBodyFromFrame, flvTagOf, frameFromFlvTag } from '../../src/format/flv-frame.js';
import { encodeFlvHeader, encodeFlvTag } from '../../src/format/flv-tag.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url));
const NALU = Buffer.from([0, 0, 0, 3, 0x26, 0x01, 0xaf]);

describe('frameFromFlvTag', () => {
  const tags = new FlvDemuxer().feed(fixture('h264-aac-160x120.flv'));
  const frames = tags.map((t) => frameFromFlvTag(t.type, t.timestamp, t.body));

  test('every fixture tag but the final end-of-sequence becomes a frame that keeps its body', () => {
    assert.deepEqual([...tags[tags.length - 1]!.body], [0x17, 2, 0, 0, 0]);
    assert.equal(frames.pop(), null);
    frames.forEach((f, i) => {
      assert.ok(f);
      assert.equal(f.flvBody, tags[i]!.body);
      assert.equal(f.payload.buffer, tags[i]!.body.buffer);
      assert.equal(f.dts, tags[i]!.timestamp);
      assert.ok(f.pts >= f.dts);
    });
  });

  test('kinds, codecs, headers, pts = dts + cts', () => {
    assert.equal(frames[0]!.kind, 'script');
    assert.equal(frames[0]!.codec, 'AMF0');
    assert.equal(frames[0]!.payload, tags[0]!.body);
    const video = frames.filter((f) => f!.kind === 'video') as MediaFrame[];
    assert.ok(video.every((f) => f.codec === 'H264'));
    assert.equal(video[0]!.header, true);
    assert.equal(video[1]!.keyframe, true);
    assert.ok(video.some((f) => f.pts > f.dts));
    const audio = frames.filter((f) => f!.kind === 'audio') as MediaFrame[];
    assert.ok(audio.every((f) => f.codec === 'AAC' && f.pts === f.dts));
    assert.equal(audio[0]!.header, true);
  });

  test('null for frameless tags', () => {
    assert.equal(frameFromFlvTag(9, 0, Buffer.from([0x57, 0])), null);
    assert.equal(frameFromFlvTag(9, 0, Buffer.from([0x17, 2, 0, 0, 0])), null);
    assert.equal(frameFromFlvTag(8, 0, Buffer.alloc(0)), null);
    assert.equal(frameFromFlvTag(20, 0, Buffer.from([1])), null);
    assert.throws(() => frameFromFlvTag(9, 0, Buffer.from([0x17, 1])), FlvError);
  });

  test('flvTagOf of a frame from FLV reproduces the original tag and is cached', () => {
    const tag = flvTagOf(frames[5]!);
    assert.ok(tag.equals(encodeFlvTag(tags[5]!.type, tags[5]!.timestamp, tags[5]!.body)));
    assert.equal(flvTagOf(frames[5]!), tag);
    assert.equal(frames[5]!.wire(FLV_TAG), tag);
  });
});

describe('flvBodyFromFrame for frames from elsewhere', () => {
  test('H.264 → legacy AVC body with composition time', () => {
    const f = new MediaFrame('video', 'H264', 1000, 1080, false, false, NALU, null);
    const body = flvBodyFromFrame(f);
    assert.deepEqual([...body.subarray(0, 5)], [0x27, 1, 0, 0, 80]);
    assert.equal(f.flvBody, body);
    assert.equal(flvBodyFromFrame(f), body);
    const back = frameFromFlvTag(9, f.dts, body)!;
    assert.deepEqual([back.codec, back.pts, back.keyframe, back.header], ['H264', 1080, false, false]);
    assert.deepEqual(back.payload, NALU);
  });

  test('HEVC → enhanced body; an in-memory enhanced FLV round trips (ffmpeg 5.1 cannot write one)', () => {
    const hvcc = fixture('hevc-160x120.hvcc');
    const frames = [
      new MediaFrame('video', 'HEVC', 0, 0, true, true, hvcc, null),
      new MediaFrame('video', 'HEVC', 0, 40, true, false, NALU, null),
      new MediaFrame('video', 'HEVC', 40, 40, false, false, NALU, null),
      new MediaFrame('audio', 'AAC', 0, 0, false, true, Buffer.from([0x12, 0x10]), null),
    ];
    const file = Buffer.concat([encodeFlvHeader(true, true), ...frames.map((f) => flvTagOf(f))]);
    assert.equal(frames[0]!.flvBody![0], 0x90);
    assert.equal(frames[1]!.flvBody![0], 0x91);
    assert.equal(frames[2]!.flvBody![0], 0xa3);
    const back = new FlvDemuxer().feed(file).map((t) => frameFromFlvTag(t.type, t.timestamp, t.body)!);
    assert.deepEqual(
      back.map((f) => [f.kind, f.codec, f.dts, f.pts, f.keyframe, f.header]),
      frames.map((f) => [f.kind, f.codec, f.dts, f.pts, f.keyframe, f.header]),
    );
    assert.ok(back[0]!.payload.equals(hvcc));
    assert.deepEqual(describeVideoConfig('HEVC', back[0]!.payload), {
      codec: 'HEVC',
      profile: 'Main',
      level: '1',
      width: 160,
      height: 120,
    });
  });

  test('AV1, VP9, Opus, MP3, AAC, script', () => {
    const av1 = frameFromFlvTag(9, 0, flvBodyFromFrame(new MediaFrame('video', 'AV1', 0, 0, true, true, fixture('av1-160x120.av1c'), null)))!;
    assert.deepEqual([av1.codec, av1.header], ['AV1', true]);
    assert.equal(frameFromFlvTag(9, 0, flvBodyFromFrame(new MediaFrame('video', 'VP9', 0, 0, true, false, Buffer.from([0x82]), null)))!.codec, 'VP9');
    const opus = frameFromFlvTag(8, 0, flvBodyFromFrame(new MediaFrame('audio', 'Opus', 0, 0, false, false, Buffer.from([0xfc]), null)))!;
    assert.deepEqual([opus.codec, [...opus.payload]], ['Opus', [0xfc]]);
    const mp3Body = flvBodyFromFrame(new MediaFrame('audio', 'MP3', 0, 0, false, false, Buffer.from([0xff, 0xf3, 0x40, 0xc4]), null));
    assert.equal(mp3Body[0], 0x2a); // MP3, 22 kHz, 16-bit, mono
    assert.deepEqual(
      [...flvBodyFromFrame(new MediaFrame('audio', 'AAC', 0, 0, false, false, Buffer.from([0x21]), null))],
      [0xaf, 1, 0x21],
    );
    const amf = Buffer.from([2, 0, 1, 0x61]);
    assert.equal(flvBodyFromFrame(new MediaFrame('script', 'AMF0', 0, 0, false, false, amf, null)), amf);
  });

  test('codecs FLV cannot carry throw FlvError', () => {
    assert.throws(() => flvBodyFromFrame(new MediaFrame('video', 'VP6', 0, 0, true, false, NALU, null)), FlvError);
    assert.throws(() => flvBodyFromFrame(new MediaFrame('audio', 'Other', 0, 0, false, false, NALU, null)), FlvError);
  });

  test('retime drops the cached tag and the next flvTagOf uses the new time', () => {
    const f = new MediaFrame('audio', 'AAC', 100, 100, false, false, Buffer.from([0x21]), null);
    const t1 = flvTagOf(f);
    assert.equal(t1.readUIntBE(4, 3), 100);
    f.retime(250);
    assert.equal(f.wire(FLV_TAG), undefined);
    const t2 = flvTagOf(f);
    assert.equal(t2.readUIntBE(4, 3), 250);
    assert.notEqual(t1, t2);
  });
});
