import { CodecError } from '../../src/codec/codec-error.js';
import { buildAdtsHeader, buildAudioSpecificConfig, parseAdtsHeader, parseAudioSpecificConfig } from '../../src/codec/aac.js';
import { describeAudio, describeVideoConfig } from '../../src/codec/describe-codec.js';
import { h264HasIdr, nalUnits, parseAvcDecoderConfig } from '../../src/codec/h264.js';
import { buildHevcDecoderConfig, hevcHasIrap, parseHevcDecoderConfig } from '../../src/codec/hevc.js';
import { findObu, parseAv1Config } from '../../src/codec/av1.js';
import { parseMpegAudioHeader } from '../../src/codec/mp3.js';
import { parseOpusHead } from '../../src/codec/opus.js';
import { fixture, flvTags } from '../corpus.js';
import { type FuzzTarget } from '../harness.js';

/** Drains the length-prefixed NAL iterator, which is what the frame checks run on. */
function walkNals(b: Buffer): void {
  for (const nal of nalUnits(b, 4)) void nal;
}

/** Video frame payloads of the FLV fixture (after the 5-byte legacy header): AVCC NAL units. */
function h264Frames(): Buffer[] {
  return flvTags()
    .filter((t) => t.type === 9 && t.body[1] === 1)
    .slice(0, 4)
    .map((t) => t.body.subarray(5, 2048));
}

export const codecH264: FuzzTarget = {
  name: 'codec-h264',
  errors: [CodecError],
  corpus: () => [fixture('h264-baseline-720p.avcc'), ...h264Frames()],
  run(input) {
    try {
      parseAvcDecoderConfig(input);
      describeVideoConfig('H264', input);
    } finally {
      // Frames are checked apart from the configuration record: both arrive from publishers.
      h264HasIdr(input, 4);
      walkNals(input);
    }
  },
};

export const codecHevc: FuzzTarget = {
  name: 'codec-hevc',
  errors: [CodecError],
  corpus: () => [fixture('hevc-160x120.hvcc'), fixture('hevc-main10-1080p.hvcc')],
  run(input) {
    try {
      const c = parseHevcDecoderConfig(input);
      describeVideoConfig('HEVC', input);
      // MPEG-TS ingest builds the record from the parameter sets it sees.
      const of = (t: number): Buffer[] => c.arrays.filter((a) => a.nalType === t).flatMap((a) => a.units);
      buildHevcDecoderConfig(of(32), of(33), of(34));
    } finally {
      hevcHasIrap(input, 4);
    }
  },
};

export const codecAv1: FuzzTarget = {
  name: 'codec-av1',
  errors: [CodecError],
  corpus: () => [fixture('av1-160x120.av1c')],
  run(input) {
    try {
      parseAv1Config(input);
      describeVideoConfig('AV1', input);
    } finally {
      findObu(input, 1);
    }
  },
};

export const codecAudio: FuzzTarget = {
  name: 'codec-aac-mp3-opus',
  errors: [CodecError],
  corpus: () => {
    const asc = buildAudioSpecificConfig(2, 3, 1);
    const opus = Buffer.from('4f707573486561640102380f80bb00000000', 'hex');
    const mp3 = flvTags().find((t) => t.type === 8 && t.body[0]! >> 4 === 2)?.body.subarray(1, 64) ?? Buffer.from('fffb9064', 'hex');
    return [asc, Buffer.from('1190', 'hex'), buildAdtsHeader(parseAudioSpecificConfig(asc), 100), opus, mp3];
  },
  run(input) {
    // Each parser sees the bytes; one refusal must not hide the next parser's crash.
    const parsers = [
      () => describeAudio('AAC', input),
      () => parseAdtsHeader(input),
      () => describeAudio('MP3', input),
      () => parseMpegAudioHeader(input),
      () => parseOpusHead(input),
      () => describeAudio('Opus', input),
    ];
    let refused: unknown = null;
    for (const p of parsers) {
      try {
        p();
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        refused = e;
      }
    }
    if (refused) throw refused;
  },
};
