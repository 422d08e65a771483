import { CodecError } from '../../src/codec/codec-error.js';
import { TsDemuxer } from '../../src/format/mpegts-demuxer.js';
import { TsFrameReader } from '../../src/format/mpegts-frames.js';
import { parseOpusTsPayload } from '../../src/format/mpegts-opus.js';
import { TsError } from '../../src/format/mpegts-common.js';
import { fixture } from '../corpus.js';
import { pieces, type FuzzTarget } from '../harness.js';

export const mpegtsDemuxer: FuzzTarget = {
  name: 'mpegts-demuxer',
  errors: [TsError],
  // ffmpeg output (H.264 + AAC), whole and as its first 20 packets.
  corpus: () => [fixture('h264-aac-160x120.mpegts'), fixture('h264-aac-160x120.mpegts').subarray(0, 188 * 20)],
  run(input, splits) {
    const d = new TsDemuxer({ maxPesBytes: 1024 * 1024 });
    for (const p of pieces(input, splits)) d.push(p);
    d.flush();
  },
};

/**
 * What SRT and UDP ingest run: demuxer, then TS → frames (H.264/H.265
 * parameter sets into config records, ADTS, Opus control headers).
 */
export const mpegtsFrames: FuzzTarget = {
  name: 'mpegts-frames',
  // ADTS headers are parsed by codec/aac, which refuses with CodecError.
  errors: [TsError, CodecError],
  corpus: () => [
    fixture('hevc-opus-160x120.mpegts').subarray(0, 188 * 40),
    fixture('h264-aac-160x120.mpegts').subarray(0, 188 * 20),
    // An Opus PES payload on its own: control headers with trims and an extension.
    Buffer.from('7ffc020138000703090909aabb7fe003010203', 'hex'),
  ],
  run(input, splits) {
    try {
      parseOpusTsPayload(input);
    } finally {
      const d = new TsDemuxer({ maxPesBytes: 1024 * 1024 });
      const r = new TsFrameReader();
      for (const p of pieces(input, splits)) for (const pes of d.push(p)) r.read(pes);
      for (const pes of d.flush()) r.read(pes);
    }
  },
};
