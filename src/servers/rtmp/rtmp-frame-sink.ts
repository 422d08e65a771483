/**
 * RTMP egress for one player. A frame is chunked once per chunk size and the
 * bytes are cached on the frame: every player with the same chunk size (all of
 * them, normally) writes the same Buffer.
 */
import type { Socket } from 'node:net';
import type { MediaFrame } from '../../codec/media-frame.js';
import { flvBodyFromFrame } from '../../format/flv.js';
import { encodeRtmpMessage } from '../../protocol/rtmp/chunk-writer.js';
import type { RtmpServerConnection } from '../../protocol/rtmp/server-connection.js';
import type { Consumer, FrameSink } from '../../live/consumer.js';
import { writeBatch } from '../../core/socket-batch-writer.js';

/** Chunk stream ids for media, as SRS uses them. */
const CSID_DATA = 5;
const CSID_VIDEO = 6;
const CSID_AUDIO = 7;

function rtmpBytesOf(frame: MediaFrame, chunkSize: number, streamId: number): Buffer {
  if (frame.wireRtmp !== null && frame.wireRtmpChunkSize === chunkSize) return frame.wireRtmp;
  const type = frame.kind === 'video' ? 9 : frame.kind === 'audio' ? 8 : 18;
  const csid = type === 9 ? CSID_VIDEO : type === 8 ? CSID_AUDIO : CSID_DATA;
  const bytes = encodeRtmpMessage({ type, streamId, timestamp: frame.dts, payload: flvBodyFromFrame(frame) }, chunkSize, csid);
  frame.wireRtmp = bytes;
  frame.wireRtmpChunkSize = chunkSize;
  return bytes;
}

export class RtmpFrameSink implements FrameSink {
  private consumer: Consumer | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly chunkSize: number,
    private readonly streamId: number,
    private readonly conn: RtmpServerConnection,
    private readonly onEnd: () => void,
  ) {
    socket.on('drain', () => this.consumer?.resume());
  }

  attach(consumer: Consumer): void {
    this.consumer = consumer;
  }

  encode(frame: MediaFrame): Buffer {
    return rtmpBytesOf(frame, this.chunkSize, this.streamId);
  }

  write(chunks: Buffer[]): boolean {
    if (this.socket.destroyed) return false;
    return writeBatch(this.socket, chunks);
  }

  end(reason: string): void {
    if (this.socket.destroyed) return;
    this.socket.write(this.conn.streamEof(this.streamId));
    this.socket.write(this.conn.onStatus(this.streamId, 'status', 'NetStream.Play.UnpublishNotify', reason));
    this.onEnd();
  }
}
