import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FlvDemuxer, type FlvTag } from '../../src/format/flv-demuxer.js';
import { FlvError } from '../../src/format/flv-error.js';
import { encodeFlvHeader, encodeFlvTag } from '../../src/format/flv-tag.js';
import { isOnMetaData, parseFlvAudioBody, parseFlvVideoBody } from '../../src/format/flv-tag-body.js';
import { describeAvcConfig, h264HasIdr } from '../../src/codec/h264.js';
import { describeAacConfig } from '../../src/codec/aac.js';
import { parseMpegAudioHeader } from '../../src/codec/mp3.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url));
const H264_AAC = fixture('h264-aac-160x120.flv');

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const plain = (tags: FlvTag[]): Array<[number, number, string]> => tags.map((t) => [t.type, t.timestamp, t.body.toString('hex')]);

describe('FlvDemuxer on an ffmpeg H.264/AAC fixture', () => {
  const d = new FlvDemuxer();
  const tags = d.feed(H264_AAC);

  test('header flags and complete consumption', () => {
    assert.deepEqual(d.header, { version: 1, hasAudio: true, hasVideo: true });
    assert.equal(d.pendingBytes, 0);
    assert.ok(tags.length > 30);
  });

  test('starts with onMetaData, then sequence headers, then a keyframe', () => {
    assert.equal(tags[0]!.type, 18);
    assert.ok(isOnMetaData(tags[0]!.body));
    const videos = tags.filter((t) => t.type === 9).map((t) => parseFlvVideoBody(t.body)!);
    const audios = tags.filter((t) => t.type === 8).map((t) => parseFlvAudioBody(t.body)!);
    assert.equal(videos[0]!.header, true);
    assert.deepEqual(describeAvcConfig(videos[0]!.payload), { codec: 'H264', profile: 'High', level: '1.1', width: 160, height: 120 });
    assert.equal(videos[1]!.keyframe, true);
    assert.equal(h264HasIdr(videos[1]!.payload), true);
    assert.ok(videos.slice(2).some((v) => !v.keyframe && !h264HasIdr(v.payload)));
    assert.ok(videos.some((v) => v.cts > 0), 'B-frames give composition offsets');
    assert.equal(audios[0]!.header, true);
    assert.deepEqual(describeAacConfig(audios[0]!.payload), { codec: 'AAC', profile: 'LC', sampleRate: 44100, channels: 2 });
    assert.ok(audios.slice(1).every((a) => a.codec === 'AAC' && !a.header && a.payload.length > 0));
  });

  test('timestamps are monotonic per track', () => {
    for (const type of [8, 9]) {
      const ts = tags.filter((t) => t.type === type).map((t) => t.timestamp);
      for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! >= ts[i - 1]!, `type ${type} at ${i}`);
      assert.ok(ts[ts.length - 1]! >= 400);
    }
  });

  test('bodies are subarrays of the fed buffer (no copy)', () => {
    for (const t of tags) assert.equal(t.body.buffer, H264_AAC.buffer);
  });

  test('re-encoding the tags reproduces the file byte for byte', () => {
    const again = Buffer.concat([encodeFlvHeader(true, true), ...tags.map((t) => encodeFlvTag(t.type, t.timestamp, t.body))]);
    assert.ok(again.equals(H264_AAC));
  });

  test('feeding one byte at a time gives the same tags', () => {
    const d1 = new FlvDemuxer();
    const got: FlvTag[] = [];
    for (let i = 0; i < H264_AAC.length; i++) got.push(...d1.feed(H264_AAC.subarray(i, i + 1)));
    assert.deepEqual(plain(got), plain(tags));
    assert.equal(d1.pendingBytes, 0);
  });

  test('random splits give the same tags', () => {
    const rand = rng(1);
    for (let round = 0; round < 20; round++) {
      const d2 = new FlvDemuxer();
      const got: FlvTag[] = [];
      let off = 0;
      while (off < H264_AAC.length) {
        const n = 1 + Math.floor(rand() * 3000);
        got.push(...d2.feed(Buffer.from(H264_AAC.subarray(off, off + n))));
        off += n;
      }
      assert.deepEqual(plain(got), plain(tags));
    }
  });
});

describe('FlvDemuxer on audio-only fixtures', () => {
  test('MP3 22050 mono', () => {
    const d = new FlvDemuxer();
    const tags = d.feed(fixture('mp3-22050-mono.flv'));
    assert.deepEqual(d.header, { version: 1, hasAudio: true, hasVideo: false });
    const audio = tags.filter((t) => t.type === 8).map((t) => parseFlvAudioBody(t.body)!);
    assert.ok(audio.length > 5);
    for (const a of audio) {
      assert.deepEqual([a.codec, a.soundRate, a.channels], ['MP3', 22050, 1]);
      const h = parseMpegAudioHeader(a.payload);
      assert.deepEqual([h.sampleRate, h.channels], [22050, 1]);
    }
  });

  test('AAC 48000 mono', () => {
    const tags = new FlvDemuxer().feed(fixture('aac-48000-mono.flv'));
    const audio = tags.filter((t) => t.type === 8).map((t) => parseFlvAudioBody(t.body)!);
    assert.equal(audio[0]!.header, true);
    assert.deepEqual(describeAacConfig(audio[0]!.payload), { codec: 'AAC', profile: 'LC', sampleRate: 48000, channels: 1 });
  });
});

describe('FlvDemuxer errors and limits', () => {
  test('bad signature', () => {
    assert.throws(() => new FlvDemuxer().feed(Buffer.from('GET / HTTP/1.1\r\n')), FlvError);
  });

  test('the error sticks: later feeds throw too', () => {
    const d = new FlvDemuxer();
    assert.throws(() => d.feed(Buffer.from('XLV\x01\x05\x00\x00\x00\x09', 'latin1')), FlvError);
    assert.throws(() => d.feed(H264_AAC), FlvError);
  });

  test('bad DataOffset and unknown tag types', () => {
    const hdr = encodeFlvHeader(true, true);
    const badOffset = Buffer.from(hdr);
    badOffset.writeUInt32BE(3, 5);
    assert.throws(() => new FlvDemuxer().feed(badOffset), FlvError);
    const tag = encodeFlvTag(7, 0, Buffer.from([1, 2, 3]));
    assert.throws(() => new FlvDemuxer().feed(Buffer.concat([hdr, tag])), FlvError);
    const filtered = encodeFlvTag(9, 0, Buffer.from([1]));
    filtered[0] = 0x29;
    assert.throws(() => new FlvDemuxer().feed(Buffer.concat([hdr, filtered])), FlvError);
  });

  test('tag larger than maxTagSize is refused before any allocation', () => {
    const d = new FlvDemuxer({ maxTagSize: 1000 });
    const head = Buffer.concat([encodeFlvHeader(false, true), Buffer.from([9, 0x00, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0])]);
    assert.throws(() => d.feed(head), /exceeds limit 1000/);
  });

  test('extended timestamps and header-less tag streams', () => {
    const body = Buffer.from([0xaf, 1, 0x21]);
    const t = encodeFlvTag(8, 0x12345678, body);
    assert.deepEqual([...t.subarray(4, 8)], [0x34, 0x56, 0x78, 0x12]);
    const d = new FlvDemuxer({ fileHeader: false });
    const tags = d.feed(Buffer.concat([t, encodeFlvTag(9, 5, Buffer.alloc(0))]));
    assert.deepEqual(plain(tags), [
      [8, 0x12345678, 'af0121'],
      [9, 5, ''],
    ]);
    assert.equal(d.header, null);
  });

  test('encodeFlvHeader flags and tag framing', () => {
    assert.deepEqual([...encodeFlvHeader(true, false)], [0x46, 0x4c, 0x56, 1, 4, 0, 0, 0, 9, 0, 0, 0, 0]);
    assert.equal(encodeFlvHeader(false, true)[4], 1);
    assert.equal(encodeFlvHeader(true, true)[4], 5);
    const tag = encodeFlvTag(18, -5, Buffer.from([2]));
    assert.deepEqual([...tag], [18, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 12]);
    assert.throws(() => encodeFlvTag(9, 0, Buffer.alloc(0x1000000)), FlvError);
  });

  test('fuzz: mutated fixture bytes parse or throw FlvError, in bounded time', () => {
    const rand = rng(2024);
    const start = process.cpuUsage(); // CPU, not wall time: a busy machine must not fail it
    for (let i = 0; i < 400; i++) {
      const b = Buffer.from(H264_AAC);
      const n = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < n; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const d = new FlvDemuxer({ maxTagSize: 1 << 20 });
      try {
        let off = 0;
        while (off < b.length) {
          const step = 1 + Math.floor(rand() * 4096);
          for (const t of d.feed(b.subarray(off, off + step))) {
            assert.ok(t.body.length <= 1 << 20);
            try {
              if (t.type === 9) parseFlvVideoBody(t.body);
              else if (t.type === 8) parseFlvAudioBody(t.body);
            } catch (e) {
              assert.ok(e instanceof FlvError, String(e));
            }
          }
          off += step;
        }
        assert.ok(d.pendingBytes <= 1 << 20);
      } catch (e) {
        assert.ok(e instanceof FlvError, String(e));
      }
    }
    assert.ok(cpuMsSince(start) < 20000);
  });

  test('fuzz: random garbage after a valid header', () => {
    const rand = rng(77);
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.alloc(Math.floor(rand() * 64));
      for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
      const d = new FlvDemuxer();
      try {
        d.feed(Buffer.concat([encodeFlvHeader(true, true), junk]));
      } catch (e) {
        assert.ok(e instanceof FlvError, String(e));
      }
    }
  });
});

describe('FLV demuxer: memory follows the bytes received, not the declared size', () => {
  test('a 16 MiB tag header followed by a few bytes does not allocate 16 MiB', () => {
    const d = new FlvDemuxer({ fileHeader: false });
    const before = process.memoryUsage().arrayBuffers;
    // Video tag, DataSize 0xffffff, then 20 body bytes.
    d.feed(Buffer.concat([Buffer.from('09ffffff00000000000000', 'hex'), Buffer.alloc(20)]));
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, 'allocated at the declared size');
    assert.equal(d.pendingBytes, 20);
  });

  test('a large tag fed in small pieces is assembled whole', () => {
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = i & 0xff;
    const wire = encodeFlvTag(9, 40, body);
    const d = new FlvDemuxer({ fileHeader: false });
    const tags: FlvTag[] = [];
    for (let o = 0; o < wire.length; o += 7_001) tags.push(...d.feed(wire.subarray(o, o + 7_001)));
    assert.equal(tags.length, 1);
    assert.equal(tags[0]!.timestamp, 40);
    assert.ok(tags[0]!.body.equals(body));
  });
});
