/**
 * The handshake's body (draft-sharabayko-srt §3.2.1): 48 bytes of fixed
 * fields, then (HSv5 conclusion) extension blocks of type, length in 4-byte
 * words and contents: HSREQ/HSRSP (SRT version, flags, latencies), KMREQ/KMRSP
 * (key material) and SID (the stream id, stored as 32-bit words with each
 * word's bytes reversed, as libsrt writes it).
 */
import { SrtError } from './srt-error.js';

const HS_CIF_SIZE = 48;

export const HandshakeType = {
  WAVEAHAND: 0,
  INDUCTION: 1,
  CONCLUSION: 0xffffffff,
  AGREEMENT: 0xfffffffe,
} as const;

/** The extension field of the listener's induction answer: "this is HSv5". */
export const SRT_MAGIC = 0x4a17;

/** Conclusion extension-field flags (which blocks follow). */
export const HsExtFlag = { HSREQ: 1, KMREQ: 2, CONFIG: 4 } as const;

export const ExtType = { HSREQ: 1, HSRSP: 2, KMREQ: 3, KMRSP: 4, SID: 5, CONGESTION: 6, FILTER: 7, GROUP: 8 } as const;

/** HSREQ/HSRSP flags (§3.2.1.1.1). */
export const SrtFlag = {
  TSBPDSND: 0x01,
  TSBPDRCV: 0x02,
  CRYPT: 0x04,
  TLPKTDROP: 0x08,
  PERIODICNAK: 0x10,
  REXMITFLG: 0x20,
  STREAM: 0x40,
  PACKET_FILTER: 0x80,
} as const;

/** Rejection reasons: a refused conclusion carries 1000 + reason as its type. */
export const RejectReason = {
  UNKNOWN: 0,
  SYSTEM: 1,
  PEER: 2,
  RESOURCE: 3,
  ROGUE: 4,
  BACKLOG: 5,
  IPE: 6,
  CLOSE: 7,
  VERSION: 8,
  RDVCOOKIE: 9,
  BADSECRET: 10,
  UNSECURE: 11,
  MESSAGEAPI: 12,
  CONGESTION: 13,
  FILTER: 14,
  GROUP: 15,
  TIMEOUT: 16,
  /** Application codes: 1000 + HTTP-like status (SRT_REJX_*). */
  BAD_REQUEST: 1400,
  FORBIDDEN: 1403,
  NOT_FOUND: 1404,
  CONFLICT: 1409,
} as const;

export const REJECT_BASE = 1000;

interface HandshakeExtension {
  type: number;
  contents: Buffer;
}

export interface Handshake {
  version: number;
  encryption: number;
  extensionField: number;
  initialSeq: number;
  mtu: number;
  flowWindow: number;
  type: number;
  socketId: number;
  cookie: number;
  /** 16 bytes as they came (libsrt's word order). */
  peerIp: Buffer;
  extensions: HandshakeExtension[];
}

/** At most this many extension blocks are read (a real conclusion has 2–4). */
const MAX_EXTENSIONS = 16;

export function parseHandshake(body: Buffer): Handshake {
  if (body.length < HS_CIF_SIZE) throw new SrtError(`handshake of ${body.length} bytes (48 needed)`);
  const hs: Handshake = {
    version: body.readUInt32BE(0),
    encryption: body.readUInt16BE(4),
    extensionField: body.readUInt16BE(6),
    initialSeq: body.readUInt32BE(8) & 0x7fffffff,
    mtu: body.readUInt32BE(12),
    flowWindow: body.readUInt32BE(16),
    type: body.readUInt32BE(20),
    socketId: body.readUInt32BE(24),
    cookie: body.readUInt32BE(28),
    peerIp: body.subarray(32, 48),
    extensions: [],
  };
  let o = HS_CIF_SIZE;
  while (o + 4 <= body.length && hs.extensions.length < MAX_EXTENSIONS) {
    const type = body.readUInt16BE(o);
    const len = body.readUInt16BE(o + 2) * 4;
    if (o + 4 + len > body.length) throw new SrtError(`handshake extension ${type} of ${len} bytes does not fit`);
    hs.extensions.push({ type, contents: body.subarray(o + 4, o + 4 + len) });
    o += 4 + len;
  }
  return hs;
}

export function buildHandshake(hs: Handshake): Buffer {
  let size = HS_CIF_SIZE;
  for (const e of hs.extensions) size += 4 + Math.ceil(e.contents.length / 4) * 4;
  const b = Buffer.alloc(size);
  b.writeUInt32BE(hs.version >>> 0, 0);
  b.writeUInt16BE(hs.encryption & 0xffff, 4);
  b.writeUInt16BE(hs.extensionField & 0xffff, 6);
  b.writeUInt32BE(hs.initialSeq & 0x7fffffff, 8);
  b.writeUInt32BE(hs.mtu >>> 0, 12);
  b.writeUInt32BE(hs.flowWindow >>> 0, 16);
  b.writeUInt32BE(hs.type >>> 0, 20);
  b.writeUInt32BE(hs.socketId >>> 0, 24);
  b.writeUInt32BE(hs.cookie >>> 0, 28);
  hs.peerIp.copy(b, 32, 0, 16);
  let o = HS_CIF_SIZE;
  for (const e of hs.extensions) {
    const words = Math.ceil(e.contents.length / 4);
    b.writeUInt16BE(e.type, o);
    b.writeUInt16BE(words, o + 2);
    e.contents.copy(b, o + 4);
    o += 4 + words * 4;
  }
  return b;
}

/** HSREQ / HSRSP contents. */
export interface SrtHsExt {
  srtVersion: number;
  flags: number;
  /** The latency the sender of this block will receive with (ms). */
  recvLatencyMs: number;
  /** The latency it asks its peer to receive with (ms). */
  sendLatencyMs: number;
}

export function parseHsExt(c: Buffer): SrtHsExt {
  if (c.length < 12) throw new SrtError(`HSREQ of ${c.length} bytes (12 needed)`);
  const lat = c.readUInt32BE(8);
  return { srtVersion: c.readUInt32BE(0), flags: c.readUInt32BE(4), sendLatencyMs: lat >>> 16, recvLatencyMs: lat & 0xffff };
}

export function buildHsExt(e: SrtHsExt): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32BE(e.srtVersion >>> 0, 0);
  b.writeUInt32BE(e.flags >>> 0, 4);
  b.writeUInt32BE((((e.sendLatencyMs & 0xffff) << 16) | (e.recvLatencyMs & 0xffff)) >>> 0, 8);
  return b;
}

/** SRT's stream id is at most 512 bytes. */
const MAX_STREAM_ID = 512;

export function parseStreamIdExt(c: Buffer): string {
  if (c.length > MAX_STREAM_ID) throw new SrtError(`stream id of ${c.length} bytes (512 at most)`);
  const b = Buffer.from(c);
  for (let o = 0; o + 4 <= b.length; o += 4) b.subarray(o, o + 4).swap32();
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  return b.subarray(0, end).toString('utf8');
}

export function buildStreamIdExt(id: string): Buffer {
  const raw = Buffer.from(id, 'utf8');
  const b = Buffer.alloc(Math.ceil(raw.length / 4) * 4);
  raw.copy(b);
  return b.swap32();
}

/** libsrt writes an IPv4 peer address as a host-order word: 127.0.0.1 goes out as 01 00 00 7f. */
export function peerIpField(address: string): Buffer {
  const b = Buffer.alloc(16);
  const m = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (m) for (let i = 0; i < 4; i++) b[3 - i] = Number(m[i + 1]) & 0xff;
  return b;
}
