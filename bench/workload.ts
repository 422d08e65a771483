/**
 * The workload FLV in memory: its tags, which of them are headers sent once
 * per publish, its duration and bitrate, and each tag pre-encoded as an RTMP
 * message whose first 12 header bytes each publisher patches (timestamp,
 * stream id) so that thousands of publishers share the payload bytes.
 */
import { readFileSync } from 'node:fs';
import { FlvDemuxer } from '../src/format/flv-demuxer.js';
import { encodeRtmpMessage } from '../src/protocol/rtmp/chunk-writer.js';
import { BenchError } from './bench-error.js';

export const PUBLISH_CHUNK_SIZE = 4096;
/** Chunk stream ids used by our publishers, by message type. */
const CSID_OF: Record<number, number> = { 8: 4, 9: 6, 18: 5 };

export interface WorkloadTag {
  type: number;
  /** ms from the first media tag. */
  ts: number;
  body: Buffer;
  /** Metadata and sequence headers: sent once at the start of a publish, not on each loop. */
  header: boolean;
  /** type-0 RTMP message (timestamp 0, stream id 1) with continuation chunks; bytes 0..11 are the header. */
  rtmp: Buffer;
}

export interface Workload {
  path: string;
  tags: WorkloadTag[];
  /** Length of one loop in ms (last tag + one frame interval). */
  loopMs: number;
  /** Average rate of the FLV stream (tag bodies plus 15 bytes of tag overhead), kbit/s. */
  kbps: number;
}

function isHeaderTag(type: number, body: Buffer): boolean {
  if (type === 18) return true;
  if (type === 9) return body.length >= 2 && (body[0] & 0x0f) === 7 && body[1] === 0;
  if (type === 8) return body.length >= 2 && body[0] >> 4 === 10 && body[1] === 0;
  return false;
}

export function loadWorkload(path: string): Workload {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw new BenchError(`cannot read the workload ${path} (make it with scripts/bench-make-workload.sh): ${(e as Error).message}`);
  }
  const raw = new FlvDemuxer().feed(data).filter((t) => t.type === 8 || t.type === 9 || t.type === 18);
  const first = raw.find((t) => t.type !== 18);
  if (!first) throw new BenchError(`${path} has no audio or video tags`);
  const t0 = first.timestamp;
  const tags: WorkloadTag[] = raw.map((t) => {
    const ts = Math.max(0, t.timestamp - t0);
    const header = isHeaderTag(t.type, t.body);
    return {
      type: t.type,
      ts: header ? 0 : ts,
      body: t.body,
      header,
      rtmp: encodeRtmpMessage({ type: t.type, streamId: 1, timestamp: 0, payload: t.body }, PUBLISH_CHUNK_SIZE, CSID_OF[t.type]),
    };
  });
  // Headers first (sorted stably), then media in timestamp order.
  tags.sort((a, b) => Number(b.header) - Number(a.header) || a.ts - b.ts);
  const media = tags.filter((t) => !t.header);
  if (media.length === 0) throw new BenchError(`${path} has no media tags`);
  const videoTs = media.filter((t) => t.type === 9).map((t) => t.ts);
  const frameMs = videoTs.length > 1 ? (videoTs[videoTs.length - 1] - videoTs[0]) / (videoTs.length - 1) : 40;
  const loopMs = Math.round(media[media.length - 1].ts + frameMs);
  const bytes = media.reduce((s, t) => s + t.body.length + 15, 0);
  return { path, tags, loopMs, kbps: (bytes * 8) / loopMs };
}

/** Chunk stream id for a message type. */
export function csidOf(type: number): number {
  return CSID_OF[type] ?? 5;
}
