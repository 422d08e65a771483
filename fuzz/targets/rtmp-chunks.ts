import { RtmpClientConnection } from '../../src/protocol/rtmp/client-connection.js';
import { RtmpChunkReader } from '../../src/protocol/rtmp/chunk-reader.js';
import { RtmpServerConnection } from '../../src/protocol/rtmp/server-connection.js';
import { RtmpError } from '../../src/protocol/rtmp/rtmp-error.js';
import { HANDSHAKE_SIZE } from '../../src/protocol/rtmp/handshake.js';
import { flvTags } from '../corpus.js';
import { pieces, type FuzzTarget } from '../harness.js';

const MIB = 1024 * 1024;
/** Small limits so that one input may legitimately allocate at most this much (the reader allocates at the declared length). */
const LIMITS = { maxMessageLength: MIB, maxPendingBytes: 2 * MIB };

/** The chunk stream our own client sends to publish: connect, createStream, publish, then real FLV tags as media. */
function publishCapture(chunkSize: number): Buffer {
  const c = new RtmpClientConnection();
  const out: Buffer[] = [];
  if (chunkSize !== 128) out.push(c.setChunkSize(chunkSize));
  out.push(c.connect('live', 'rtmp://127.0.0.1:1935/live', { fpad: false, capabilities: 15, audioCodecs: 3575, videoCodecs: 252 }));
  out.push(c.createStream(), c.releaseStream('s'), c.fcPublish('s'), c.publish(1, 's?token=x'));
  for (const t of flvTags().slice(0, 6)) out.push(c.media(t.type, 1, t.timestamp, t.body.subarray(0, 600)));
  out.push(c.play(1, 's'), c.deleteStream(1));
  return Buffer.concat(out);
}

function corpus(): Buffer[] {
  return [publishCapture(128), publishCapture(4096), publishCapture(60)];
}

const allocAllowance = (n: number): number => 4 * MIB + 64 * n;

export const rtmpChunkReader: FuzzTarget = {
  name: 'rtmp-chunk-reader',
  errors: [RtmpError],
  corpus,
  allocAllowance,
  run(input, splits) {
    const r = new RtmpChunkReader(LIMITS);
    for (const p of pieces(input, splits)) r.feed(p);
  },
};

export const rtmpServerConnection: FuzzTarget = {
  name: 'rtmp-server-connection',
  // It documents one class: AMF errors are wrapped in RtmpError('amf').
  errors: [RtmpError],
  // What a server reads: C0C1, C2, then the chunk stream.
  corpus: () => corpus().map((cs) => Buffer.concat([new RtmpClientConnection().start(), Buffer.alloc(HANDSHAKE_SIZE, 9), cs])),
  allocAllowance,
  run(input, splits) {
    const s = new RtmpServerConnection(LIMITS);
    for (const p of pieces(input, splits)) s.feed(p);
  },
};
