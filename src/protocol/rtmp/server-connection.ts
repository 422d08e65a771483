/**
 * Server side of one RTMP connection, sans-IO: bytes in → events out,
 * method calls → bytes to write.
 *
 * It runs the handshake, demuxes chunks, answers what the protocol itself
 * must answer (acknowledgements, ping responses: `send` events in order with
 * the rest) and turns commands into typed events. What to do with a publish
 * or play (auth, hooks, the live source) is the session's business; the
 * builders below produce the bytes SRS sends in reply.
 */
import { AMF_COMMAND_LIMITS, Amf0EcmaArray, AmfError, decodeAmf0, encodeAmf0 } from '../../format/amf0.js';
import type { Amf0Object, Amf0Value } from '../../format/amf0.js';
import { RtmpChunkReader, DEFAULT_CHUNK_SIZE } from './chunk-reader.js';
import type { ChunkReaderOptions, RtmpMessage } from './chunk-reader.js';
import {
  CSID,
  MSG,
  USER_CONTROL,
  acknowledgementMessage,
  encodeRtmpMessage,
  parseControlU32,
  parseUserControl,
  pingRequestMessage,
  pingResponseMessage,
  setChunkSizeMessage,
  setPeerBandwidthMessage,
  streamBeginMessage,
  streamEofMessage,
  windowAckSizeMessage,
} from './chunk-writer.js';
import { RtmpServerHandshake } from './handshake.js';
import { RtmpError } from './rtmp-error.js';

export { RtmpError } from './rtmp-error.js';

type RtmpMediaType = 8 | 9 | 15 | 18;

export type RtmpServerEvent =
  | { type: 'send'; data: Buffer }
  | {
      type: 'connect';
      transactionId: number;
      tcUrl: string;
      app: string;
      pageUrl: string;
      swfUrl: string;
      objectEncoding: number;
      flashVer: string;
      /** Optional user arguments object that follows the command object (empty if none). */
      args: Amf0Object;
      /** The whole connect command object. */
      commandObject: Amf0Object;
    }
  | { type: 'createStream'; transactionId: number }
  | { type: 'releaseStream' | 'FCPublish' | 'FCUnpublish'; transactionId: number; streamName: string }
  | { type: 'publish'; transactionId: number; streamId: number; streamName: string; publishType: string }
  | {
      type: 'play';
      transactionId: number;
      streamId: number;
      streamName: string;
      start: number;
      duration: number;
      reset: boolean;
    }
  | { type: 'pause'; streamId: number; pause: boolean; milliseconds: number }
  | { type: 'deleteStream'; streamId: number }
  | { type: 'closeStream'; streamId: number }
  | { type: 'getStreamLength'; transactionId: number; streamName: string }
  | { type: 'command'; name: string; transactionId: number; streamId: number; args: Amf0Value[] }
  | { type: 'media'; messageType: RtmpMediaType; streamId: number; timestamp: number; payload: Buffer }
  | { type: 'setBufferLength'; streamId: number; milliseconds: number }
  | { type: 'pingResponse'; timestamp: number };

/** Named apart from the reader's options so server-only options can join later without renaming. */
export type RtmpServerConnectionOptions = ChunkReaderOptions;

/**
 * Longest tcUrl, pageUrl, swfUrl, app, flashVer or stream name (with its
 * `?token=...` query) accepted, in bytes: real ones are well under 1 KiB.
 */
export const MAX_URL_FIELD_BYTES = 4096;
/**
 * Until a peer asks to publish, nothing it may send is bigger than a command:
 * media messages and the partial messages it may keep open are held to this
 * (a player never sends media), so an unauthenticated peer costs little memory.
 */
const PRE_PUBLISH_MESSAGE_BYTES = 64 * 1024;
const PRE_PUBLISH_PENDING_BYTES = 256 * 1024;
const MIB = 1024 * 1024;

export interface ConnectResultOptions {
  fmsVer?: string;
  capabilities?: number;
  description?: string;
  objectEncoding?: number;
  /** Extra server info, sent as the `data` ECMA array of the info object (SRS does this). */
  data?: Amf0Object;
}

/** `02 000D "@setDataFrame"`: the prefix encoders put before onMetaData. */
const SET_DATA_FRAME = encodeAmf0(['@setDataFrame']);

function stripSetDataFrame(p: Buffer): Buffer {
  return p.length >= SET_DATA_FRAME.length && SET_DATA_FRAME.equals(p.subarray(0, SET_DATA_FRAME.length))
    ? p.subarray(SET_DATA_FRAME.length)
    : p;
}

function str(v: Amf0Value, def = ''): string {
  return typeof v === 'string' ? v : def;
}

/** A URL-like command field, refused (the connection fails) beyond MAX_URL_FIELD_BYTES. */
function field(v: Amf0Value, what: string, def = ''): string {
  const s = str(v, def);
  const n = Buffer.byteLength(s, 'utf8');
  if (n > MAX_URL_FIELD_BYTES) throw new RtmpError('limit', `${what} of ${n} bytes exceeds limit ${MAX_URL_FIELD_BYTES}`);
  return s;
}

function num(v: Amf0Value, def = 0): number {
  return typeof v === 'number' && !Number.isNaN(v) ? v : def;
}

function isPlainObject(v: Amf0Value): v is Amf0Object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Amf0EcmaArray);
}

export class RtmpServerConnection {
  /** Dropped once done: its buffers would otherwise stay pinned for the connection's life. */
  private handshake: RtmpServerHandshake | null = new RtmpServerHandshake();
  private handshakeModeSeen: 'simple' | 'complex' | null = null;
  private readonly reader: RtmpChunkReader;
  private chunkSize = DEFAULT_CHUNK_SIZE;
  /** Bytes received so far (handshake included), for acknowledgements. */
  private bytesIn = 0;
  private lastAckAt = 0;
  /** The peer's Window Acknowledgement Size: we ack every time this many bytes arrived. */
  private peerWindow = 0;
  private failed: Error | null = null;
  private readonly publishLimits: { message: number; pending: number };

  constructor(opts: RtmpServerConnectionOptions = {}) {
    this.publishLimits = { message: opts.maxMessageLength ?? 16 * MIB, pending: opts.maxPendingBytes ?? 32 * MIB };
    this.reader = new RtmpChunkReader({
      ...opts,
      maxMessageLength: Math.min(PRE_PUBLISH_MESSAGE_BYTES, this.publishLimits.message),
      maxPendingBytes: Math.min(PRE_PUBLISH_PENDING_BYTES, this.publishLimits.pending),
    });
  }

  /** Chunk size used for everything this connection writes. */
  get outChunkSize(): number {
    return this.chunkSize;
  }

  /** Chunk size the peer uses. */
  get inChunkSize(): number {
    return this.reader.inChunkSize;
  }

  /** 'simple' or 'complex' once C1 arrived. */
  get handshakeMode(): 'simple' | 'complex' | null {
    return this.handshake ? this.handshake.mode : this.handshakeModeSeen;
  }

  get bytesReceived(): number {
    return this.bytesIn;
  }

  feed(chunk: Buffer): RtmpServerEvent[] {
    if (this.failed) throw this.failed;
    try {
      return this.process(chunk);
    } catch (e) {
      const err = e instanceof AmfError ? new RtmpError('amf', e.message) : e;
      if (err instanceof Error) this.failed = err;
      throw err;
    }
  }

  private process(chunk: Buffer): RtmpServerEvent[] {
    const events: RtmpServerEvent[] = [];
    this.bytesIn += chunk.length;
    let data: Buffer | null = chunk;
    if (this.handshake) {
      const step = this.handshake.feed(chunk);
      for (const s of step.send) events.push({ type: 'send', data: s });
      if (!step.done) return events;
      this.handshakeModeSeen = this.handshake.mode;
      this.handshake = null;
      data = step.rest;
    }
    if (data) {
      this.reader.feedEach(data, (m) => this.handle(m, events));
    }
    if (this.peerWindow > 0 && this.bytesIn - this.lastAckAt >= this.peerWindow) {
      this.lastAckAt = this.bytesIn;
      events.push({ type: 'send', data: acknowledgementMessage(this.bytesIn % 0x100000000) });
    }
    return events;
  }

  private handle(m: RtmpMessage, events: RtmpServerEvent[]): void {
    switch (m.type) {
      case MSG.AUDIO:
      case MSG.VIDEO:
        events.push({ type: 'media', messageType: m.type, streamId: m.streamId, timestamp: m.timestamp, payload: m.payload });
        return;
      case MSG.DATA_AMF0:
        events.push({
          type: 'media',
          messageType: MSG.DATA_AMF0,
          streamId: m.streamId,
          timestamp: m.timestamp,
          payload: stripSetDataFrame(m.payload),
        });
        return;
      case MSG.DATA_AMF3: {
        const p = m.payload.length > 0 && m.payload[0] === 0 ? m.payload.subarray(1) : m.payload;
        events.push({
          type: 'media',
          messageType: MSG.DATA_AMF3,
          streamId: m.streamId,
          timestamp: m.timestamp,
          payload: stripSetDataFrame(p),
        });
        return;
      }
      case MSG.COMMAND_AMF0:
        this.command(m.payload, m.streamId, events);
        return;
      case MSG.COMMAND_AMF3:
        // AMF3 command messages carry a format byte 0 and then plain AMF0.
        this.command(m.payload.length > 0 && m.payload[0] === 0 ? m.payload.subarray(1) : m.payload, m.streamId, events);
        return;
      case MSG.AGGREGATE:
        this.aggregate(m, events);
        return;
      case MSG.USER_CONTROL: {
        const uc = parseUserControl(m.payload);
        if (uc.event === USER_CONTROL.PING_REQUEST) {
          events.push({ type: 'send', data: pingResponseMessage(uc.value) });
        } else if (uc.event === USER_CONTROL.PING_RESPONSE) {
          events.push({ type: 'pingResponse', timestamp: uc.value });
        } else if (uc.event === USER_CONTROL.SET_BUFFER_LENGTH) {
          events.push({ type: 'setBufferLength', streamId: uc.value, milliseconds: uc.bufferLength ?? 0 });
        }
        return;
      }
      case MSG.WINDOW_ACK_SIZE:
        this.peerWindow = parseControlU32(m.payload, 'Window Acknowledgement Size');
        return;
      default:
        // Set Chunk Size / Abort were applied by the reader; Ack, Set Peer
        // Bandwidth and shared objects need nothing from a server.
        return;
    }
  }

  /** Splits an aggregate message (FLV tags back to back) into media events. */
  private aggregate(m: RtmpMessage, events: RtmpServerEvent[]): void {
    const p = m.payload;
    let off = 0;
    let base = -1;
    while (off < p.length) {
      if (off + 11 > p.length) throw new RtmpError('protocol', 'truncated aggregate sub-message header');
      const type = p[off];
      const size = (p[off + 1] << 16) | (p[off + 2] << 8) | p[off + 3];
      const ts = (((p[off + 7] << 24) | (p[off + 4] << 16) | (p[off + 5] << 8) | p[off + 6]) >>> 0);
      if (off + 11 + size > p.length) throw new RtmpError('protocol', 'truncated aggregate sub-message body');
      if (base < 0) base = ts;
      const body = p.subarray(off + 11, off + 11 + size);
      const timestamp = (m.timestamp + ts - base) >>> 0;
      if (type === MSG.AUDIO || type === MSG.VIDEO) {
        events.push({ type: 'media', messageType: type, streamId: m.streamId, timestamp, payload: body });
      } else if (type === MSG.DATA_AMF0) {
        events.push({ type: 'media', messageType: type, streamId: m.streamId, timestamp, payload: stripSetDataFrame(body) });
      }
      // Each sub-message is followed by a 4-byte back pointer.
      off += 11 + size + 4;
    }
  }

  private command(payload: Buffer, streamId: number, events: RtmpServerEvent[]): void {
    const v = decodeAmf0(payload, Infinity, AMF_COMMAND_LIMITS);
    const name = v[0];
    if (typeof name !== 'string') throw new RtmpError('protocol', 'command message without a name');
    const transactionId = num(v[1]);
    switch (name) {
      case 'connect': {
        const co = v[2];
        if (!isPlainObject(co)) throw new RtmpError('protocol', 'connect without a command object');
        events.push({
          type: 'connect',
          transactionId,
          tcUrl: field(co.tcUrl, 'tcUrl'),
          app: field(co.app, 'app'),
          pageUrl: field(co.pageUrl, 'pageUrl'),
          swfUrl: field(co.swfUrl, 'swfUrl'),
          objectEncoding: num(co.objectEncoding),
          flashVer: field(co.flashVer, 'flashVer'),
          args: isPlainObject(v[3]) ? v[3] : {},
          commandObject: co,
        });
        return;
      }
      case 'createStream':
        events.push({ type: 'createStream', transactionId });
        return;
      case 'releaseStream':
      case 'FCPublish':
      case 'FCUnpublish':
        events.push({ type: name, transactionId, streamName: field(v[3], 'stream name') });
        return;
      case 'publish':
        // The full media limits wait for publishStart(): a publish still in admission (hooks, security) gets no more than any peer.
        events.push({ type: 'publish', transactionId, streamId, streamName: field(v[3], 'stream name'), publishType: field(v[4], 'publish type', 'live') });
        return;
      case 'play': {
        const r = v[6];
        events.push({
          type: 'play',
          transactionId,
          streamId,
          streamName: field(v[3], 'stream name'),
          start: num(v[4], -2),
          duration: num(v[5], -1),
          reset: typeof r === 'boolean' ? r : typeof r === 'number' ? r !== 0 : true,
        });
        return;
      }
      case 'pause':
        events.push({ type: 'pause', streamId, pause: v[3] === true, milliseconds: num(v[4]) });
        return;
      case 'deleteStream':
        events.push({ type: 'deleteStream', streamId: num(v[3], streamId) });
        return;
      case 'closeStream':
        events.push({ type: 'closeStream', streamId });
        return;
      case 'getStreamLength':
        events.push({ type: 'getStreamLength', transactionId, streamName: field(v[3], 'stream name') });
        return;
      default:
        events.push({ type: 'command', name, transactionId, streamId, args: v.slice(2) });
    }
  }

  // -------------------------------------------------------------------------
  // Output builders

  /** Encodes any message with this connection's out chunk size. */
  encode(type: number, streamId: number, timestamp: number, payload: Buffer, csid: number): Buffer {
    return encodeRtmpMessage({ type, streamId, timestamp, payload }, this.chunkSize, csid);
  }

  private cmd(streamId: number, values: Amf0Value[]): Buffer {
    const csid = streamId === 0 ? CSID.OVER_CONNECTION : CSID.OVER_STREAM;
    return this.encode(MSG.COMMAND_AMF0, streamId, 0, encodeAmf0(values), csid);
  }

  private data(streamId: number, values: Amf0Value[]): Buffer {
    return this.encode(MSG.DATA_AMF0, streamId, 0, encodeAmf0(values), CSID.OVER_STREAM);
  }

  /** Set Chunk Size; responses built after this call use the new size. */
  setChunkSize(n: number): Buffer {
    const b = setChunkSizeMessage(n);
    this.chunkSize = n;
    return b;
  }

  windowAckSize(n: number): Buffer {
    return windowAckSizeMessage(n);
  }

  /** limitType: 0 hard, 1 soft, 2 dynamic (SRS sends 2). */
  setPeerBandwidth(n: number, limitType: 0 | 1 | 2 = 2): Buffer {
    return setPeerBandwidthMessage(n, limitType);
  }

  connectResult(transactionId: number, opts: ConnectResultOptions = {}): Buffer {
    const info: Amf0Object = {
      level: 'status',
      code: 'NetConnection.Connect.Success',
      description: opts.description ?? 'Connection succeeded',
      objectEncoding: opts.objectEncoding ?? 0,
    };
    if (opts.data) info.data = new Amf0EcmaArray(opts.data);
    return this.cmd(0, [
      '_result',
      transactionId,
      { fmsVer: opts.fmsVer ?? 'FMS/3,5,3,888', capabilities: opts.capabilities ?? 127, mode: 1 },
      info,
    ]);
  }

  /** _error for connect; `extra` merges into the info object (e.g. ex: {code: 302, redirect}). */
  connectError(
    transactionId: number,
    code = 'NetConnection.Connect.Rejected',
    description = 'Connection rejected',
    extra: Amf0Object = {},
  ): Buffer {
    return this.cmd(0, ['_error', transactionId, null, { level: 'error', code, description, ...extra }]);
  }

  /**
   * SRS's RTMP 302 (origin cluster): an onStatus on stream 0, level error,
   * NetConnection.Connect.Rejected, with `ex.redirect` the tcUrl and
   * `ex.redirect2` the full URL of the server that has the stream.
   */
  redirect(tcUrl: string, url: string): Buffer {
    return this.onStatus(0, 'error', 'NetConnection.Connect.Rejected', 'RTMP 302 Redirect', { ex: { code: 302, redirect: tcUrl, redirect2: url } });
  }

  createStreamResult(transactionId: number, streamId: number): Buffer {
    return this.cmd(0, ['_result', transactionId, null, streamId]);
  }

  /** _result for releaseStream/FCPublish/...: `null, undefined` when no values are given (as SRS). */
  callResult(transactionId: number, ...values: Amf0Value[]): Buffer {
    return this.cmd(0, ['_result', transactionId, ...(values.length > 0 ? values : [null, undefined])]);
  }

  getStreamLengthResult(transactionId: number, duration = 0): Buffer {
    return this.cmd(0, ['_result', transactionId, null, duration]);
  }

  onBWDone(): Buffer {
    return this.cmd(0, ['onBWDone', 0, null]);
  }

  onStatus(streamId: number, level: string, code: string, description: string, extra: Amf0Object = {}): Buffer {
    return this.cmd(streamId, ['onStatus', 0, null, { level, code, description, ...extra }]);
  }

  onFCPublish(streamId = 0, description = 'Started publishing stream.'): Buffer {
    return this.cmd(streamId, ['onFCPublish', 0, null, { code: 'NetStream.Publish.Start', description }]);
  }

  onFCUnpublish(streamId = 0, description = 'Stop publishing stream.'): Buffer {
    return this.cmd(streamId, ['onFCUnpublish', 0, null, { code: 'NetStream.Unpublish.Success', description }]);
  }

  streamBegin(streamId: number): Buffer {
    return streamBeginMessage(streamId);
  }

  streamEof(streamId: number): Buffer {
    return streamEofMessage(streamId);
  }

  pingRequest(timestamp: number): Buffer {
    return pingRequestMessage(timestamp);
  }

  sampleAccess(streamId: number): Buffer {
    return this.data(streamId, ['|RtmpSampleAccess', true, true]);
  }

  /** What SRS sends when a publish is accepted; from here on media may come, frames up to the full limits. */
  publishStart(streamId: number, streamName: string): Buffer {
    void streamName;
    this.reader.setMessageLimits(this.publishLimits.message, this.publishLimits.pending);
    return this.onStatus(streamId, 'status', 'NetStream.Publish.Start', 'Started publishing stream.', {
      clientid: 'ASAICiss',
    });
  }

  publishBadName(streamId: number, description = 'Stream already publishing'): Buffer {
    return this.onStatus(streamId, 'error', 'NetStream.Publish.BadName', description);
  }

  unpublishSuccess(streamId: number): Buffer {
    return this.onStatus(streamId, 'status', 'NetStream.Unpublish.Success', 'Stream is now unpublished');
  }

  /**
   * What a play start sends: StreamBegin, Play.Reset, Play.Start, |RtmpSampleAccess.
   * SRS also sends an `onStatus NetStream.Data.Start` data message; ffmpeg turns
   * that into a bogus data stream ("Data: none"), so Sluice leaves it out.
   */
  playStart(streamId: number, streamName: string): Buffer {
    const extra = { details: streamName, clientid: 'ASAICiss' };
    return Buffer.concat([
      this.streamBegin(streamId),
      this.onStatus(streamId, 'status', 'NetStream.Play.Reset', `Playing and resetting ${streamName}.`, extra),
      this.onStatus(streamId, 'status', 'NetStream.Play.Start', `Started playing ${streamName}.`, extra),
      this.sampleAccess(streamId),
    ]);
  }

  /** Reply to pause: Pause.Notify or Unpause.Notify, as SRS does. */
  pauseNotify(streamId: number, paused: boolean): Buffer {
    return paused
      ? this.onStatus(streamId, 'status', 'NetStream.Pause.Notify', 'Paused stream.')
      : this.onStatus(streamId, 'status', 'NetStream.Unpause.Notify', 'Unpaused stream.');
  }
}
