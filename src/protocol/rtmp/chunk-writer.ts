/**
 * RTMP chunk stream muxer and protocol control messages.
 *
 * Every message is written self-contained: a type 0 first chunk with the
 * absolute timestamp, then type 3 continuation chunks. That costs a few
 * bytes per message but lets the same bytes go to every player, whatever
 * that player received before.
 */
import { RtmpError } from './rtmp-error.js';

/** Message type ids. */
export const MSG = {
  SET_CHUNK_SIZE: 1,
  ABORT: 2,
  ACK: 3,
  USER_CONTROL: 4,
  WINDOW_ACK_SIZE: 5,
  SET_PEER_BANDWIDTH: 6,
  AUDIO: 8,
  VIDEO: 9,
  DATA_AMF3: 15,
  SHARED_OBJECT_AMF3: 16,
  COMMAND_AMF3: 17,
  DATA_AMF0: 18,
  SHARED_OBJECT_AMF0: 19,
  COMMAND_AMF0: 20,
  AGGREGATE: 22,
} as const;

/** Chunk stream ids, as SRS assigns them. */
export const CSID = {
  PROTOCOL_CONTROL: 2,
  OVER_CONNECTION: 3,
  OVER_CONNECTION2: 4,
  OVER_STREAM: 5,
  VIDEO: 6,
  AUDIO: 7,
  OVER_STREAM2: 8,
} as const;

/** The chunk stream a media or data message of a stream goes on (SRS's choice: audio 7, video 6, data 5). */
export function mediaChunkStream(type: number): number {
  return type === MSG.AUDIO ? CSID.AUDIO : type === MSG.VIDEO ? CSID.VIDEO : CSID.OVER_STREAM;
}

/** User control event types. */
export const USER_CONTROL = {
  STREAM_BEGIN: 0,
  STREAM_EOF: 1,
  STREAM_DRY: 2,
  SET_BUFFER_LENGTH: 3,
  STREAM_IS_RECORDED: 4,
  PING_REQUEST: 6,
  PING_RESPONSE: 7,
} as const;

export interface RtmpOutMessage {
  type: number;
  streamId: number;
  timestamp: number;
  payload: Buffer;
}

function basicHeaderSize(csid: number): number {
  if (csid >= 2 && csid <= 63) return 1;
  if (csid >= 64 && csid <= 319) return 2;
  if (csid >= 320 && csid <= 65599) return 3;
  throw new RtmpError('chunk', `invalid chunk stream id ${csid}`);
}

function writeBasicHeader(out: Buffer, pos: number, fmt: number, csid: number): number {
  if (csid <= 63) {
    out[pos] = (fmt << 6) | csid;
    return pos + 1;
  }
  if (csid <= 319) {
    out[pos] = fmt << 6;
    out[pos + 1] = csid - 64;
    return pos + 2;
  }
  out[pos] = (fmt << 6) | 1;
  out[pos + 1] = (csid - 64) & 0xff;
  out[pos + 2] = (csid - 64) >> 8;
  return pos + 3;
}

/** Total encoded size of a message (for callers that batch into one buffer). */
export function rtmpMessageSize(payloadLength: number, timestamp: number, chunkSize: number, csid: number): number {
  const basic = basicHeaderSize(csid);
  const ext = timestamp % 0x100000000 >= 0xffffff ? 4 : 0;
  const chunks = payloadLength === 0 ? 1 : Math.ceil(payloadLength / chunkSize);
  return basic + 11 + ext + payloadLength + (chunks - 1) * (basic + ext);
}

/**
 * Encodes a message: type 0 first chunk, type 3 continuations. An extended
 * timestamp (>= 0xFFFFFF) is repeated on every continuation chunk, as
 * ffmpeg, librtmp and SRS expect.
 */
export function encodeRtmpMessage(msg: RtmpOutMessage, chunkSize: number, csid: number): Buffer {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RtmpError('chunk', `invalid chunk size ${chunkSize}`);
  const len = msg.payload.length;
  if (len > 0xffffff) throw new RtmpError('limit', `message of ${len} bytes does not fit RTMP's 24-bit length`);
  const ts = msg.timestamp % 0x100000000;
  const ext = ts >= 0xffffff;
  const out = Buffer.allocUnsafe(rtmpMessageSize(len, ts, chunkSize, csid));
  let p = writeBasicHeader(out, 0, 0, csid);
  const tsField = ext ? 0xffffff : ts;
  out[p] = tsField >>> 16;
  out[p + 1] = (tsField >>> 8) & 0xff;
  out[p + 2] = tsField & 0xff;
  out[p + 3] = len >>> 16;
  out[p + 4] = (len >>> 8) & 0xff;
  out[p + 5] = len & 0xff;
  out[p + 6] = msg.type;
  out.writeUInt32LE(msg.streamId >>> 0, p + 7);
  p += 11;
  if (ext) {
    out.writeUInt32BE(ts, p);
    p += 4;
  }
  let done = 0;
  for (;;) {
    const n = Math.min(chunkSize, len - done);
    msg.payload.copy(out, p, done, done + n);
    p += n;
    done += n;
    if (done >= len) break;
    p = writeBasicHeader(out, p, 3, csid);
    if (ext) {
      out.writeUInt32BE(ts, p);
      p += 4;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Protocol control messages (chunk stream 2, message stream 0)

function control(type: number, payload: Buffer): Buffer {
  // Control payloads are at most 10 bytes: one chunk at any chunk size >= 10.
  return encodeRtmpMessage({ type, streamId: 0, timestamp: 0, payload }, 128, CSID.PROTOCOL_CONTROL);
}

function u32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}

export function setChunkSizeMessage(size: number): Buffer {
  if (!Number.isInteger(size) || size < 1 || size > 0x7fffffff) throw new RtmpError('chunk', `invalid chunk size ${size}`);
  return control(MSG.SET_CHUNK_SIZE, u32(size));
}

export function abortMessage(csid: number): Buffer {
  return control(MSG.ABORT, u32(csid));
}

export function acknowledgementMessage(sequenceNumber: number): Buffer {
  return control(MSG.ACK, u32(sequenceNumber));
}

export function windowAckSizeMessage(size: number): Buffer {
  return control(MSG.WINDOW_ACK_SIZE, u32(size));
}

/** limitType: 0 hard, 1 soft, 2 dynamic. */
export function setPeerBandwidthMessage(size: number, limitType: 0 | 1 | 2): Buffer {
  const p = Buffer.allocUnsafe(5);
  p.writeUInt32BE(size >>> 0, 0);
  p[4] = limitType;
  return control(MSG.SET_PEER_BANDWIDTH, p);
}

function userControlMessage(event: number, ...values: number[]): Buffer {
  const p = Buffer.allocUnsafe(2 + 4 * values.length);
  p.writeUInt16BE(event, 0);
  values.forEach((v, i) => p.writeUInt32BE(v >>> 0, 2 + 4 * i));
  return control(MSG.USER_CONTROL, p);
}

export const streamBeginMessage = (streamId: number): Buffer => userControlMessage(USER_CONTROL.STREAM_BEGIN, streamId);
export const streamEofMessage = (streamId: number): Buffer => userControlMessage(USER_CONTROL.STREAM_EOF, streamId);
export const setBufferLengthMessage = (streamId: number, ms: number): Buffer =>
  userControlMessage(USER_CONTROL.SET_BUFFER_LENGTH, streamId, ms);
export const pingRequestMessage = (timestamp: number): Buffer => userControlMessage(USER_CONTROL.PING_REQUEST, timestamp);
export const pingResponseMessage = (timestamp: number): Buffer =>
  userControlMessage(USER_CONTROL.PING_RESPONSE, timestamp);

export interface UserControlEvent {
  event: number;
  /** Stream id for stream events, timestamp for ping request/response. */
  value: number;
  /** Buffer length in ms, for Set Buffer Length only. */
  bufferLength?: number;
}

/** Parses a user control message payload. */
export function parseUserControl(payload: Buffer): UserControlEvent {
  if (payload.length < 2) throw new RtmpError('protocol', 'short user control message');
  const event = payload.readUInt16BE(0);
  // Unknown events may carry anything; read a value only when present.
  const value = payload.length >= 6 ? payload.readUInt32BE(2) : 0;
  if (event === USER_CONTROL.SET_BUFFER_LENGTH) {
    if (payload.length < 10) throw new RtmpError('protocol', 'short Set Buffer Length message');
    return { event, value, bufferLength: payload.readUInt32BE(6) };
  }
  if (event <= USER_CONTROL.PING_RESPONSE && payload.length < 6) {
    throw new RtmpError('protocol', `short user control event ${event}`);
  }
  return { event, value };
}

/** Reads the 4-byte value of Set Chunk Size / Ack / Window Ack Size / Set Peer Bandwidth. */
export function parseControlU32(payload: Buffer, what: string): number {
  if (payload.length < 4) throw new RtmpError('protocol', `short ${what} message`);
  return payload.readUInt32BE(0);
}
