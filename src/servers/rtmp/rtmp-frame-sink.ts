/**
 * RTMP egress for one player. A frame is chunked once per chunk size and the
 * bytes are cached on the frame: every player with the same chunk size (all of
 * them, normally) writes the same Buffer.
 */
import type { Socket } from 'node:net';
import type { MediaFrame } from '../../codec/media-frame.js';
import { WireFormat } from '../../codec/wire-format.js';
import { flvBodyFromFrame } from '../../format/flv.js';
import { MSG, encodeRtmpMessage, mediaChunkStream } from '../../protocol/rtmp/chunk-writer.js';
import type { RtmpServerConnection } from '../../protocol/rtmp/server-connection.js';
import type { Consumer, FrameSink } from '../../live/consumer.js';
import type { FlushTurn } from '../../live/flush-turn.js';
import { SocketWriter } from '../../core/socket-writer.js';

/** A frame chunked for RTMP, with the chunk size it was chunked at (players normally share one). */
interface RtmpWire {
  chunkSize: number;
  bytes: Buffer;
}

const RTMP_CHUNKS = new WireFormat<RtmpWire>('rtmp-chunks');

function rtmpBytesOf(frame: MediaFrame, chunkSize: number, streamId: number): Buffer {
  const cached = frame.wire(RTMP_CHUNKS);
  if (cached !== undefined && cached.chunkSize === chunkSize) return cached.bytes;
  const type = frame.kind === 'video' ? MSG.VIDEO : frame.kind === 'audio' ? MSG.AUDIO : MSG.DATA_AMF0;
  const bytes = encodeRtmpMessage({ type, streamId, timestamp: frame.dts, payload: flvBodyFromFrame(frame) }, chunkSize, mediaChunkStream(type));
  frame.setWire(RTMP_CHUNKS, { chunkSize, bytes });
  return bytes;
}

export class RtmpFrameSink implements FrameSink {
  private consumer: Consumer | null = null;
  private readonly writer: SocketWriter;

  constructor(
    private readonly socket: Socket,
    private readonly chunkSize: number,
    private readonly streamId: number,
    private readonly conn: RtmpServerConnection,
    private readonly onEnd: () => void,
  ) {
    this.writer = new SocketWriter(socket);
    socket.on('drain', () => this.consumer?.resume());
  }

  attach(consumer: Consumer): void {
    this.consumer = consumer;
  }

  encode(frame: MediaFrame): Buffer {
    return rtmpBytesOf(frame, this.chunkSize, this.streamId);
  }

  write(chunks: Buffer[], turn?: FlushTurn): boolean {
    if (this.socket.destroyed) return false;
    return this.writer.write(chunks, turn);
  }

  /** Bytes the socket sent (Node's count and the native writer's). */
  get bytesWritten(): number {
    return this.writer.bytesWritten;
  }

  end(reason: string): void {
    if (this.socket.destroyed) return;
    this.socket.write(this.conn.streamEof(this.streamId));
    this.socket.write(this.conn.onStatus(this.streamId, 'status', 'NetStream.Play.UnpublishNotify', reason));
    this.onEnd();
  }
}
