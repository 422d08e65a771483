import { TsDemuxer } from '../../src/format/mpegts-demuxer.js';
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
