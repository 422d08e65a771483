import { FlvDemuxer } from '../../src/format/flv-demuxer.js';
import { FlvError } from '../../src/format/flv-error.js';
import { parseFlvAudioBody, parseFlvVideoBody, isOnMetaData, buildExVideoBody, FourCC } from '../../src/format/flv-tag-body.js';
import { fixture, flvFiles, flvTags } from '../corpus.js';
import { pieces, type FuzzTarget } from '../harness.js';

export const flvDemuxer: FuzzTarget = {
  name: 'flv-demuxer',
  errors: [FlvError],
  corpus: () => flvFiles(),
  run(input, splits) {
    const d = new FlvDemuxer();
    for (const p of pieces(input, splits)) d.feed(p);
    // Bare tag sequences (RTMP aggregate messages) go through the same reader without the file header.
    const bare = new FlvDemuxer({ fileHeader: false });
    bare.feed(input.subarray(13));
  },
};

export const flvTagBody: FuzzTarget = {
  name: 'flv-tag-body',
  errors: [FlvError],
  corpus: () => {
    const out = flvTags().map((t) => t.body.subarray(0, 1024));
    // Enhanced RTMP bodies (FourCC) with the real HEVC and AV1 configuration records.
    out.push(buildExVideoBody(FourCC.hvc1, true, true, 0, fixture('hevc-160x120.hvcc').subarray(0, 1024)));
    out.push(buildExVideoBody(FourCC.av01, true, true, 0, fixture('av1-160x120.av1c')));
    return out;
  },
  run(input) {
    parseFlvVideoBody(input);
    parseFlvAudioBody(input);
    isOnMetaData(input);
  },
};
