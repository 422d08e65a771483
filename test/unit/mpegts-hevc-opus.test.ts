import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { CodecError } from '../../src/codec/codec-error.js';
import { buildHevcDecoderConfig, describeHevcConfig, parseHevcDecoderConfig } from '../../src/codec/hevc.js';
import { buildOpusHead, opusPacketDuration, parseOpusHead } from '../../src/codec/opus.js';
import { TsMuxer } from '../../src/format/mpegts-muxer.js';
import { TsDemuxer } from '../../src/format/mpegts-demuxer.js';
import { TsFrameReader } from '../../src/format/mpegts-frames.js';
import { TsError, TsStreamType } from '../../src/format/mpegts-common.js';
import { opusChannelsFromEsInfo, opusControlHeader, opusEsInfo, parseOpusTsPayload } from '../../src/format/mpegts-opus.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url));

function unitsOf(hvcc: Buffer, type: number): Buffer[] {
  return parseHevcDecoderConfig(hvcc).arrays.find((a) => a.nalType === type)?.units ?? [];
}

function readAll(ts: Buffer): MediaFrame[] {
  const d = new TsDemuxer();
  const r = new TsFrameReader();
  return [...d.push(ts), ...d.flush()].flatMap((p) => r.read(p));
}

describe('buildHevcDecoderConfig', () => {
  for (const [name, w, h, depth] of [
    ['hevc-160x120.hvcc', 160, 120, 8],
    ['hevc-main10-1080p.hvcc', 1920, 1080, 10],
  ] as const) {
    test(`rebuilds ${name} from its VPS/SPS/PPS: same profile, level, chroma, bit depth, parameter sets`, () => {
      const orig = fixture(name);
      const vps = unitsOf(orig, 32);
      const sps = unitsOf(orig, 33);
      const pps = unitsOf(orig, 34);
      const rebuilt = buildHevcDecoderConfig(vps, sps, pps);
      const a = parseHevcDecoderConfig(orig);
      const b = parseHevcDecoderConfig(rebuilt);
      for (const k of ['profileSpace', 'tierFlag', 'profileIdc', 'profileCompatibilityFlags', 'levelIdc', 'chromaFormatIdc', 'bitDepthLuma'] as const) {
        assert.equal(b[k], a[k], k);
      }
      assert.equal(b.bitDepthLuma, depth);
      assert.equal(b.lengthSizeMinusOne, 3);
      assert.deepEqual(orig.subarray(6, 12), rebuilt.subarray(6, 12), 'constraint indicator flags');
      assert.deepEqual(
        b.arrays.map((x) => [x.nalType, x.units.map((u) => u.toString('hex'))]),
        [32, 33, 34].map((t) => [t, unitsOf(orig, t).map((u) => u.toString('hex'))]),
      );
      const info = describeHevcConfig(rebuilt);
      assert.deepEqual([info.width, info.height], [w, h]);
    });
  }

  test('refuses no SPS, a broken SPS and an oversized NAL unit with CodecError', () => {
    const orig = fixture('hevc-160x120.hvcc');
    assert.throws(() => buildHevcDecoderConfig([], [], []), CodecError);
    assert.throws(() => buildHevcDecoderConfig([], [Buffer.from([0x42, 0x01, 0x01])], []), CodecError);
    const big = Buffer.alloc(70000, 0x11);
    big[0] = 0x44; // PPS header
    assert.throws(() => buildHevcDecoderConfig([], unitsOf(orig, 33), [big]), CodecError);
  });
});

describe('Opus in MPEG-TS framing', () => {
  test('control headers round-trip every size, including the 255 boundaries', () => {
    for (const size of [1, 2, 254, 255, 256, 509, 510, 511, 1275]) {
      const pkt = Buffer.alloc(size, size & 0xff);
      const both = Buffer.concat([opusControlHeader(size), pkt, opusControlHeader(3), Buffer.from([1, 2, 3])]);
      const got = parseOpusTsPayload(both);
      assert.equal(got.length, 2, `size ${size}`);
      assert.ok(got[0]!.packet.equals(pkt));
      assert.deepEqual([...got[1]!.packet], [1, 2, 3]);
    }
  });

  test('reads start/end trim and skips the control extension', () => {
    // prefix 0x7fe0 | start(0x10) | end(0x08) | ext(0x04), au_size 2, start_trim 312, end_trim 7, ext of 3 bytes
    const b = Buffer.from([0x7f, 0xfc, 2, 0x01, 0x38, 0x00, 0x07, 3, 9, 9, 9, 0xaa, 0xbb]);
    const [p] = parseOpusTsPayload(b);
    assert.deepEqual([p!.startTrim, p!.endTrim, [...p!.packet]], [312, 7, [0xaa, 0xbb]]);
  });

  test('refuses a missing prefix and every truncation with TsError', () => {
    assert.throws(() => parseOpusTsPayload(Buffer.from([0x00, 0xe0, 1, 0])), TsError);
    const good = Buffer.from([0x7f, 0xfc, 2, 0x01, 0x38, 0x00, 0x07, 3, 9, 9, 9, 0xaa, 0xbb]);
    for (let n = 1; n < good.length; n++) assert.throws(() => parseOpusTsPayload(good.subarray(0, n)), TsError, `cut at ${n}`);
    assert.throws(() => parseOpusTsPayload(Buffer.from([0x7f, 0xe0, 0xff, 0xff])), TsError);
  });

  test('channel_config_code in the ES info: 1..8 as is, 0 as dual mono, none as -1', () => {
    for (let c = 1; c <= 8; c++) assert.equal(opusChannelsFromEsInfo(opusEsInfo(c)), c);
    assert.equal(opusChannelsFromEsInfo(opusEsInfo(0)), 2);
    assert.equal(opusChannelsFromEsInfo(Buffer.from([0x05, 4, 0x4f, 0x70, 0x75, 0x73])), -1);
    assert.equal(opusChannelsFromEsInfo(Buffer.from([0x7f, 9, 0x80])), -1); // descriptor overruns
  });

  test('OpusHead: family 0 for stereo, family 1 with the Vorbis mapping for 5.1', () => {
    const st = parseOpusHead(buildOpusHead(2, 312));
    assert.deepEqual([st.channels, st.preSkip, st.mappingFamily], [2, 312, 0]);
    const six = buildOpusHead(6);
    assert.deepEqual([six.length, six[18], six[19], six[20], [...six.subarray(21)]], [27, 1, 4, 2, [0, 4, 1, 2, 3, 5]]);
    assert.throws(() => buildOpusHead(9), CodecError);
  });

  test('packet durations from the TOC', () => {
    assert.equal(opusPacketDuration(Buffer.from([0xfc])), 960); // CELT FB 20 ms, one frame
    assert.equal(opusPacketDuration(Buffer.from([0xfd])), 1920); // two frames
    assert.equal(opusPacketDuration(Buffer.from([0x1b, 3])), 2880 * 3); // SILK 60 ms, code 3, 3 frames
    assert.equal(opusPacketDuration(Buffer.alloc(0)), 0);
  });
});

describe('TsFrameReader: H.265 and Opus', () => {
  test('FFmpeg output (libx265 + libopus): an hvcC header, then HEVC frames with a keyframe; an OpusHead, then 20 ms Opus packets', () => {
    const frames = readAll(fixture('hevc-opus-160x120.mpegts'));
    const video = frames.filter((f) => f.kind === 'video');
    const audio = frames.filter((f) => f.kind === 'audio');
    assert.equal(video[0]!.header, true);
    assert.equal(video[0]!.codec, 'HEVC');
    const info = describeHevcConfig(video[0]!.payload);
    assert.deepEqual([info.width, info.height, info.profile], [160, 120, 'Main']);
    assert.ok(video[1]!.keyframe);
    assert.ok(video.filter((f) => !f.header).length >= 4);
    assert.equal(audio[0]!.header, true);
    assert.equal(parseOpusHead(audio[0]!.payload).channels, 1);
    const pk = audio.filter((f) => !f.header);
    assert.ok(pk.length >= 20, `opus packets ${pk.length}`);
    for (let i = 1; i < pk.length; i++) assert.ok(pk[i]!.dts - pk[i - 1]!.dts >= 19 && pk[i]!.dts - pk[i - 1]!.dts <= 21, `opus dts step at ${i}`);
  });

  test('TsMuxer → TsDemuxer → TsFrameReader keeps H.265 parameter sets and Opus packets', () => {
    const hvcc = fixture('hevc-160x120.hvcc');
    const m = new TsMuxer();
    const idr = Buffer.alloc(500, 0x5a);
    idr[0] = 19 << 1; // IDR_W_RADL
    idr[1] = 1;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(idr.length);
    const opus = Buffer.alloc(300, 0x33);
    opus[0] = 0xfc;
    const ts = Buffer.concat(
      [
        new MediaFrame('video', 'HEVC', 0, 0, false, true, hvcc, null),
        new MediaFrame('audio', 'Opus', 0, 0, false, true, buildOpusHead(2), null),
        new MediaFrame('video', 'HEVC', 0, 40, true, false, Buffer.concat([len, idr]), null),
        new MediaFrame('audio', 'Opus', 0, 0, false, false, opus, null),
        new MediaFrame('audio', 'Opus', 20, 20, false, false, opus, null),
      ].map((f) => m.muxFrame(f)!),
    );
    const d = new TsDemuxer();
    const pes = [...d.push(ts), ...d.flush()];
    assert.deepEqual([...d.streams.values()].map((s) => [s.streamType, s.registration]), [
      [TsStreamType.HEVC, null],
      [TsStreamType.PrivateData, 'Opus'],
    ]);
    const r = new TsFrameReader();
    const frames = pes.flatMap((p) => r.read(p));
    const vh = frames.find((f) => f.kind === 'video' && f.header)!;
    for (const t of [32, 33, 34]) assert.deepEqual(unitsOf(vh.payload, t), unitsOf(hvcc, t));
    const key = frames.find((f) => f.kind === 'video' && !f.header)!;
    assert.ok(key.keyframe);
    assert.equal(key.pts - key.dts, 40);
    assert.ok(key.payload.subarray(4).equals(idr));
    const ah = frames.find((f) => f.kind === 'audio' && f.header)!;
    assert.equal(parseOpusHead(ah.payload).channels, 2);
    const ap = frames.filter((f) => f.kind === 'audio' && !f.header);
    assert.deepEqual(ap.map((f) => f.dts), [0, 20]);
    assert.ok(ap.every((f) => f.payload.equals(opus)));
  });

  test('a private PES without the Opus registration is ignored, not misread', () => {
    const r = new TsFrameReader();
    const out = r.read({ pid: 0x102, streamType: 0x06, streamId: 0xbd, registration: 'KLVA', esInfo: Buffer.alloc(0), pts: 0, dts: 0, randomAccess: false, payload: Buffer.from([0x7f, 0xe0, 1, 0]) });
    assert.deepEqual(out, []);
    assert.equal(r.ignoredPes, 1);
  });
});
