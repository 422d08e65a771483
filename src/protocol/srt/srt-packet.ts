/**
 * The SRT packet codec (draft-sharabayko-srt §3): one 16-byte header, then a
 * data payload or a control packet's body. Parsing never trusts a length the
 * datagram does not hold; building returns one Buffer ready for the socket.
 */
import { SrtError } from './srt-error.js';

const SRT_HEADER_SIZE = 16;

export const ControlType = {
  HANDSHAKE: 0,
  KEEPALIVE: 1,
  ACK: 2,
  NAK: 3,
  CONGESTION: 4,
  SHUTDOWN: 5,
  ACKACK: 6,
  DROPREQ: 7,
  PEERERROR: 8,
  USER: 0x7fff,
} as const;

/** Where a packet sits in its message (PP bits). */
export const Position = { MIDDLE: 0, LAST: 1, FIRST: 2, SOLO: 3 } as const;

export interface SrtDataPacket {
  control: false;
  seq: number;
  position: number;
  inOrder: boolean;
  /** KK: 0 clear, 1 even key, 2 odd key. */
  keyFlags: number;
  retransmitted: boolean;
  messageNumber: number;
  timestamp: number;
  destSocket: number;
  payload: Buffer;
}

export interface SrtControlPacket {
  control: true;
  type: number;
  subtype: number;
  /** The type-specific word (ACK number, message number, ...). */
  info: number;
  timestamp: number;
  destSocket: number;
  body: Buffer;
}

export type SrtPacket = SrtDataPacket | SrtControlPacket;

export function parsePacket(b: Buffer): SrtPacket {
  if (b.length < SRT_HEADER_SIZE) throw new SrtError(`datagram of ${b.length} bytes is shorter than the SRT header`);
  const w0 = b.readUInt32BE(0);
  const w1 = b.readUInt32BE(4);
  const timestamp = b.readUInt32BE(8);
  const destSocket = b.readUInt32BE(12);
  if (w0 & 0x80000000) {
    return { control: true, type: (w0 >>> 16) & 0x7fff, subtype: w0 & 0xffff, info: w1, timestamp, destSocket, body: b.subarray(SRT_HEADER_SIZE) };
  }
  return {
    control: false,
    seq: w0,
    position: w1 >>> 30,
    inOrder: (w1 & 0x20000000) !== 0,
    keyFlags: (w1 >>> 27) & 3,
    retransmitted: (w1 & 0x04000000) !== 0,
    messageNumber: w1 & 0x03ffffff,
    timestamp,
    destSocket,
    payload: b.subarray(SRT_HEADER_SIZE),
  };
}

export function buildDataPacket(p: Omit<SrtDataPacket, 'control'>): Buffer {
  const b = Buffer.allocUnsafe(SRT_HEADER_SIZE + p.payload.length);
  writeDataHeader(b, p);
  p.payload.copy(b, SRT_HEADER_SIZE);
  return b;
}

/** Writes the header of a data packet in place. */
function writeDataHeader(b: Buffer, p: Omit<SrtDataPacket, 'control' | 'payload'>): void {
  b.writeUInt32BE(p.seq & 0x7fffffff, 0);
  const w1 = ((p.position & 3) << 30) | (p.inOrder ? 0x20000000 : 0) | ((p.keyFlags & 3) << 27) | (p.retransmitted ? 0x04000000 : 0) | (p.messageNumber & 0x03ffffff);
  b.writeUInt32BE(w1 >>> 0, 4);
  b.writeUInt32BE(p.timestamp >>> 0, 8);
  b.writeUInt32BE(p.destSocket >>> 0, 12);
}

export function buildControlPacket(type: number, info: number, timestamp: number, destSocket: number, body: Buffer | null = null, subtype = 0): Buffer {
  const len = body ? body.length : 0;
  const b = Buffer.allocUnsafe(SRT_HEADER_SIZE + len);
  b.writeUInt32BE((0x80000000 | ((type & 0x7fff) << 16) | (subtype & 0xffff)) >>> 0, 0);
  b.writeUInt32BE(info >>> 0, 4);
  b.writeUInt32BE(timestamp >>> 0, 8);
  b.writeUInt32BE(destSocket >>> 0, 12);
  body?.copy(b, SRT_HEADER_SIZE);
  return b;
}

/** A full ACK's body; a light ACK carries only `lastAck`. */
export interface AckBody {
  /** The first sequence number not yet received in order (all before it are). */
  lastAck: number;
  rttUs?: number;
  rttVarUs?: number;
  availableBuffer?: number;
  packetsPerSecond?: number;
  capacity?: number;
  bytesPerSecond?: number;
}

export function parseAck(body: Buffer): AckBody {
  if (body.length < 4) throw new SrtError('ACK without its sequence number');
  const a: AckBody = { lastAck: body.readUInt32BE(0) & 0x7fffffff };
  if (body.length >= 16) {
    a.rttUs = body.readUInt32BE(4);
    a.rttVarUs = body.readUInt32BE(8);
    a.availableBuffer = body.readUInt32BE(12);
  }
  if (body.length >= 28) {
    a.packetsPerSecond = body.readUInt32BE(16);
    a.capacity = body.readUInt32BE(20);
    a.bytesPerSecond = body.readUInt32BE(24);
  }
  return a;
}

export function buildAckBody(a: Required<AckBody>): Buffer {
  const b = Buffer.allocUnsafe(28);
  b.writeUInt32BE(a.lastAck >>> 0, 0);
  b.writeUInt32BE(a.rttUs >>> 0, 4);
  b.writeUInt32BE(a.rttVarUs >>> 0, 8);
  b.writeUInt32BE(a.availableBuffer >>> 0, 12);
  b.writeUInt32BE(a.packetsPerSecond >>> 0, 16);
  b.writeUInt32BE(a.capacity >>> 0, 20);
  b.writeUInt32BE(a.bytesPerSecond >>> 0, 24);
  return b;
}

/** A loss range [from, to] (to = from for one packet). */
export interface LossRange {
  from: number;
  to: number;
}

/** Decodes a NAK's compressed loss list: a word with the top bit set opens a range closed by the next word. At most `max` ranges. */
export function parseLossList(body: Buffer, max = 1024): LossRange[] {
  const out: LossRange[] = [];
  for (let o = 0; o + 4 <= body.length && out.length < max; o += 4) {
    const w = body.readUInt32BE(o);
    if (w & 0x80000000) {
      if (o + 8 > body.length) throw new SrtError('NAK range without its end');
      out.push({ from: w & 0x7fffffff, to: body.readUInt32BE(o + 4) & 0x7fffffff });
      o += 4;
    } else out.push({ from: w, to: w });
  }
  return out;
}

export function buildLossList(ranges: readonly LossRange[]): Buffer {
  let words = 0;
  for (const r of ranges) words += r.from === r.to ? 1 : 2;
  const b = Buffer.allocUnsafe(words * 4);
  let o = 0;
  for (const r of ranges) {
    if (r.from === r.to) {
      b.writeUInt32BE(r.from & 0x7fffffff, o);
      o += 4;
    } else {
      b.writeUInt32BE((0x80000000 | r.from) >>> 0, o);
      b.writeUInt32BE(r.to & 0x7fffffff, o + 4);
      o += 8;
    }
  }
  return b;
}

/** DROPREQ body: the sender gave up on [from, to]. */
export function parseDropRequest(body: Buffer): LossRange {
  if (body.length < 8) throw new SrtError('DROPREQ shorter than 8 bytes');
  return { from: body.readUInt32BE(0) & 0x7fffffff, to: body.readUInt32BE(4) & 0x7fffffff };
}

export function buildDropRequestBody(r: LossRange): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(r.from & 0x7fffffff, 0);
  b.writeUInt32BE(r.to & 0x7fffffff, 4);
  return b;
}
