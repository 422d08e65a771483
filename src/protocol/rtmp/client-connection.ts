/**
 * Client side of an RTMP connection, sans-IO, for our tests and the load
 * generator (which opens thousands of these, so it stays small): handshake,
 * acknowledgements, ping responses, and command builders.
 */
import { AmfError, decodeAmf0, encodeAmf0 } from '../../format/amf0.js';
import type { Amf0Object, Amf0Value } from '../../format/amf0.js';
import { RtmpChunkReader, DEFAULT_CHUNK_SIZE } from './chunk-reader.js';
import type { ChunkReaderOptions, RtmpMessage } from './chunk-reader.js';
import {
  CSID,
  mediaChunkStream,
  MSG,
  USER_CONTROL,
  acknowledgementMessage,
  encodeRtmpMessage,
  parseControlU32,
  parseUserControl,
  pingResponseMessage,
  setChunkSizeMessage,
} from './chunk-writer.js';
import type { UserControlEvent } from './chunk-writer.js';
import { RtmpClientHandshake } from './handshake.js';
import { RtmpError } from './rtmp-error.js';

export type RtmpClientEvent =
  | { type: 'send'; data: Buffer }
  | { type: 'handshakeDone' }
  | { type: 'result'; transactionId: number; args: Amf0Value[] }
  | { type: 'error'; transactionId: number; args: Amf0Value[] }
  | { type: 'onStatus'; streamId: number; level: string; code: string; description: string; info: Amf0Object }
  | { type: 'command'; name: string; transactionId: number; streamId: number; args: Amf0Value[] }
  | { type: 'media'; messageType: number; streamId: number; timestamp: number; payload: Buffer }
  | { type: 'userControl'; event: number; value: number; bufferLength?: number };

export interface RtmpClientConnectionOptions extends ChunkReaderOptions {
  /** Send a digest C1 and check the server's S1/S2 (default false). */
  complexHandshake?: boolean;
}

export class RtmpClientConnection {
  private readonly handshake: RtmpClientHandshake;
  private handshakeDone = false;
  private readonly reader: RtmpChunkReader;
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private nextTid = 1;
  private bytesIn = 0;
  private lastAckAt = 0;
  private peerWindow = 0;

  constructor(opts: RtmpClientConnectionOptions = {}) {
    this.handshake = new RtmpClientHandshake(opts.complexHandshake ?? false);
    this.reader = new RtmpChunkReader(opts);
  }

  get outChunkSize(): number {
    return this.chunkSize;
  }

  get inChunkSize(): number {
    return this.reader.inChunkSize;
  }

  get handshakeMode(): 'simple' | 'complex' | null {
    return this.handshake.mode;
  }

  /** Transaction id used by the last command builder call. */
  get lastTransactionId(): number {
    return this.nextTid - 1;
  }

  /** C0 + C1. */
  start(): Buffer {
    return this.handshake.start();
  }

  feed(chunk: Buffer): RtmpClientEvent[] {
    try {
      return this.process(chunk);
    } catch (e) {
      if (e instanceof AmfError) throw new RtmpError('amf', e.message);
      throw e;
    }
  }

  private process(chunk: Buffer): RtmpClientEvent[] {
    const events: RtmpClientEvent[] = [];
    this.bytesIn += chunk.length;
    let data: Buffer | null = chunk;
    if (!this.handshakeDone) {
      const step = this.handshake.feed(chunk);
      if (!step.done) return events;
      for (const s of step.send) events.push({ type: 'send', data: s });
      events.push({ type: 'handshakeDone' });
      this.handshakeDone = true;
      data = step.rest;
    }
    if (data) {
      for (const m of this.reader.feed(data)) this.handle(m, events);
    }
    if (this.peerWindow > 0 && this.bytesIn - this.lastAckAt >= this.peerWindow) {
      this.lastAckAt = this.bytesIn;
      events.push({ type: 'send', data: acknowledgementMessage(this.bytesIn % 0x100000000) });
    }
    return events;
  }

  private handle(m: RtmpMessage, events: RtmpClientEvent[]): void {
    switch (m.type) {
      case MSG.AUDIO:
      case MSG.VIDEO:
      case MSG.DATA_AMF0:
      case MSG.DATA_AMF3:
        events.push({ type: 'media', messageType: m.type, streamId: m.streamId, timestamp: m.timestamp, payload: m.payload });
        return;
      case MSG.COMMAND_AMF0:
      case MSG.COMMAND_AMF3: {
        const p = m.type === MSG.COMMAND_AMF3 && m.payload.length > 0 && m.payload[0] === 0 ? m.payload.subarray(1) : m.payload;
        this.onCommand(decodeAmf0(p), m.streamId, events);
        return;
      }
      case MSG.USER_CONTROL: {
        const uc: UserControlEvent = parseUserControl(m.payload);
        if (uc.event === USER_CONTROL.PING_REQUEST) events.push({ type: 'send', data: pingResponseMessage(uc.value) });
        events.push({ type: 'userControl', ...uc });
        return;
      }
      case MSG.WINDOW_ACK_SIZE:
        this.peerWindow = parseControlU32(m.payload, 'Window Acknowledgement Size');
        return;
      default:
        return;
    }
  }

  private onCommand(v: Amf0Value[], streamId: number, events: RtmpClientEvent[]): void {
    const name = v[0];
    if (typeof name !== 'string') throw new RtmpError('protocol', 'command message without a name');
    const transactionId = typeof v[1] === 'number' ? v[1] : 0;
    if (name === '_result' || name === '_error') {
      events.push({ type: name === '_result' ? 'result' : 'error', transactionId, args: v.slice(2) });
    } else if (name === 'onStatus') {
      const info = v[3];
      const o: Amf0Object = typeof info === 'object' && info !== null && !Array.isArray(info) && !(info instanceof Date) ? (info as Amf0Object) : {};
      const s = (x: Amf0Value): string => (typeof x === 'string' ? x : '');
      events.push({ type: 'onStatus', streamId, level: s(o.level), code: s(o.code), description: s(o.description), info: o });
    } else {
      events.push({ type: 'command', name, transactionId, streamId, args: v.slice(2) });
    }
  }

  // -------------------------------------------------------------------------
  // Builders (each returns the bytes to write)

  private cmd(streamId: number, values: Amf0Value[]): Buffer {
    const csid = streamId === 0 ? CSID.OVER_CONNECTION : CSID.OVER_STREAM;
    return encodeRtmpMessage({ type: MSG.COMMAND_AMF0, streamId, timestamp: 0, payload: encodeAmf0(values) }, this.chunkSize, csid);
  }

  /** Any command; a new transaction id is used when `transactionId` is omitted. */
  command(name: string, streamId: number, args: Amf0Value[], transactionId = this.nextTid++): Buffer {
    return this.cmd(streamId, [name, transactionId, ...args]);
  }

  connect(app: string, tcUrl: string, extra: Amf0Object = {}): Buffer {
    return this.command('connect', 0, [
      {
        app,
        flashVer: 'LNX 9,0,124,2',
        tcUrl,
        fpad: false,
        capabilities: 15,
        audioCodecs: 4071,
        videoCodecs: 252,
        videoFunction: 1,
        ...extra,
      },
    ]);
  }

  createStream(): Buffer {
    return this.command('createStream', 0, [null]);
  }

  releaseStream(name: string): Buffer {
    return this.command('releaseStream', 0, [null, name]);
  }

  fcPublish(name: string): Buffer {
    return this.command('FCPublish', 0, [null, name]);
  }

  publish(streamId: number, name: string, publishType = 'live'): Buffer {
    return this.command('publish', streamId, [null, name, publishType], 0);
  }

  play(streamId: number, name: string, start = -2): Buffer {
    return this.command('play', streamId, [null, name, start], 0);
  }

  deleteStream(streamId: number): Buffer {
    return this.command('deleteStream', 0, [null, streamId], 0);
  }

  /** Audio/video/data message with the client's out chunk size. */
  media(type: number, streamId: number, timestamp: number, payload: Buffer): Buffer {
    return encodeRtmpMessage({ type, streamId, timestamp, payload }, this.chunkSize, mediaChunkStream(type));
  }

  setChunkSize(n: number): Buffer {
    const b = setChunkSizeMessage(n);
    this.chunkSize = n;
    return b;
  }
}
