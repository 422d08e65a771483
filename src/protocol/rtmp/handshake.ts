/**
 * RTMP handshake, sans-IO, server and client side.
 *
 * Simple handshake: C1/S1 are 1536 bytes (time, zero, random), S2/C2 echo
 * the peer's packet. Complex handshake (what Flash Player, ffmpeg and OBS
 * send): C1 carries an HMAC-SHA256 digest at a position derived from the
 * packet itself (schema 0: digest block second; schema 1: digest block
 * first). ffmpeg checks S1's digest and S2's signature, so a server that
 * answers a complex C1 must answer in kind.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { RtmpError } from './rtmp-error.js';

const RTMP_VERSION = 3;
export const HANDSHAKE_SIZE = 1536;
const DIGEST_SIZE = 32;

// The well known key constants of the complex handshake.
const KEY_TAIL = Buffer.from([
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d,
  0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
]);
const FMS_TEXT = Buffer.from('Genuine Adobe Flash Media Server 001', 'latin1'); // 36 bytes
const FP_TEXT = Buffer.from('Genuine Adobe Flash Player 001', 'latin1'); // 30 bytes
/** Server key: 36-byte text (digest of S1) or 68 bytes with the tail (key of S2). */
const FMS_KEY_FULL = Buffer.concat([FMS_TEXT, KEY_TAIL]);
/** Player key: 30-byte text (digest of C1) or 62 bytes with the tail (key of C2). */
const FP_KEY_FULL = Buffer.concat([FP_TEXT, KEY_TAIL]);

/** Version field we put in a complex S1/C1 (must be non-zero; ffmpeg checks byte 0 >= 3). */
const SERVER_VERSION = Buffer.from([0x04, 0x05, 0x00, 0x01]);
const CLIENT_VERSION = Buffer.from([0x80, 0x00, 0x07, 0x02]);

function hmac(key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Schema 0: key block at 8, digest block at 772. Schema 1: digest block at 8. */
export type DigestSchema = 0 | 1;

/** Offset of the 32-byte digest inside a 1536-byte C1/S1 for the given schema. */
export function digestOffset(packet: Buffer, schema: DigestSchema): number {
  const base = schema === 0 ? 772 : 8;
  const sum = packet[base] + packet[base + 1] + packet[base + 2] + packet[base + 3];
  return (sum % 728) + base + 4;
}

function packetDigest(packet: Buffer, pos: number, key: Buffer): Buffer {
  return hmac(key, packet.subarray(0, pos), packet.subarray(pos + DIGEST_SIZE));
}

/** Writes the digest into a 1536-byte packet for the schema; returns the digest. */
export function imprintDigest(packet: Buffer, schema: DigestSchema, key: Buffer): Buffer {
  const pos = digestOffset(packet, schema);
  const d = packetDigest(packet, pos, key);
  d.copy(packet, pos);
  return d;
}

/** Finds a valid digest in a C1/S1: returns the schema and digest, or null. */
export function findDigest(packet: Buffer, key: Buffer): { schema: DigestSchema; digest: Buffer } | null {
  for (const schema of [0, 1] as const) {
    const pos = digestOffset(packet, schema);
    const expected = packetDigest(packet, pos, key);
    if (expected.equals(packet.subarray(pos, pos + DIGEST_SIZE))) return { schema, digest: expected };
  }
  return null;
}

/** Builds the complex S2/C2: random bytes with a signature keyed off the peer's digest. */
function signedResponse(keyBase: Buffer, peerDigest: Buffer): Buffer {
  const pkt = randomBytes(HANDSHAKE_SIZE);
  const key = hmac(keyBase, peerDigest);
  hmac(key, pkt.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE)).copy(pkt, HANDSHAKE_SIZE - DIGEST_SIZE);
  return pkt;
}

/** True when a S2/C2 carries the signature expected for our own digest. */
function checkSignedResponse(pkt: Buffer, keyBase: Buffer, ourDigest: Buffer): boolean {
  const key = hmac(keyBase, ourDigest);
  const sig = hmac(key, pkt.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE));
  return sig.equals(pkt.subarray(HANDSHAKE_SIZE - DIGEST_SIZE));
}

export interface HandshakeStep {
  /** Bytes to write to the peer, in order. */
  send: Buffer[];
  /** The handshake is over; chunk stream bytes follow. */
  done: boolean;
  /** Bytes after the handshake that arrived in this feed (chunk stream data). */
  rest: Buffer | null;
}

/**
 * Collects fixed-size handshake packets across arbitrary splits without
 * copying more than the packet itself.
 */
class PacketCollector {
  private buf: Buffer;
  private have = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  /** Takes bytes from `src` at `off`; returns the new offset. */
  take(src: Buffer, off: number): number {
    const n = Math.min(this.buf.length - this.have, src.length - off);
    src.copy(this.buf, this.have, off, off + n);
    this.have += n;
    return off + n;
  }
  get full(): boolean {
    return this.have === this.buf.length;
  }
  get bytes(): Buffer {
    return this.buf;
  }
}

type ServerState = 'c0c1' | 'c2' | 'done';

/** Server side: C0C1 in → S0S1S2 out, C2 in → done. */
export class RtmpServerHandshake {
  private state: ServerState = 'c0c1';
  private c0c1 = new PacketCollector(1 + HANDSHAKE_SIZE);
  private c2 = new PacketCollector(HANDSHAKE_SIZE);
  /** 'complex' when C1 carried a valid digest, after C0C1 has arrived. */
  mode: 'simple' | 'complex' | null = null;

  feed(buf: Buffer): HandshakeStep {
    const send: Buffer[] = [];
    let off = 0;
    if (this.state === 'done') return { send, done: true, rest: buf.length > 0 ? buf : null };
    if (this.state === 'c0c1') {
      off = this.c0c1.take(buf, off);
      const pkt = this.c0c1.bytes;
      // Reject a wrong version as soon as the first byte is there.
      if (off > 0 && pkt[0] !== RTMP_VERSION) {
        throw new RtmpError('handshake', `unsupported RTMP version byte ${pkt[0]} (expected 3)`);
      }
      if (!this.c0c1.full) return { send, done: false, rest: null };
      send.push(this.respond(pkt.subarray(1)));
      this.state = 'c2';
    }
    // C2 content is not checked: many clients send garbage there and no server cares.
    off = this.c2.take(buf, off);
    if (!this.c2.full) return { send, done: false, rest: null };
    this.state = 'done';
    return { send, done: true, rest: off < buf.length ? buf.subarray(off) : null };
  }

  private respond(c1: Buffer): Buffer {
    const out = Buffer.allocUnsafe(1 + 2 * HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = out.subarray(1 + HANDSHAKE_SIZE);
    randomBytes(HANDSHAKE_SIZE).copy(s1);
    s1.writeUInt32BE(0, 0);
    // A client that sends version 0 in C1 asks for the simple handshake.
    const found = c1.readUInt32BE(4) !== 0 ? findDigest(c1, FP_TEXT) : null;
    if (found) {
      this.mode = 'complex';
      SERVER_VERSION.copy(s1, 4);
      imprintDigest(s1, found.schema, FMS_TEXT);
      signedResponse(FMS_KEY_FULL, found.digest).copy(s2);
    } else {
      this.mode = 'simple';
      s1.writeUInt32BE(0, 4);
      c1.copy(s2);
    }
    return out;
  }
}

type ClientState = 'idle' | 's0s1s2' | 'done';

/**
 * Client side for our own test client and load generator. With
 * `complex: true` it sends a digest C1 and verifies the server's S1 digest
 * and S2 signature when the server answers in complex mode.
 */
export class RtmpClientHandshake {
  private state: ClientState = 'idle';
  private s0s1s2 = new PacketCollector(1 + 2 * HANDSHAKE_SIZE);
  private c1: Buffer | null = null;
  private c1Digest: Buffer | null = null;
  /** How the server answered, once S1 has arrived. */
  mode: 'simple' | 'complex' | null = null;

  constructor(private readonly complex = false) {}

  /** C0 + C1. */
  start(): Buffer {
    if (this.state !== 'idle') throw new RtmpError('handshake', 'client handshake already started');
    const out = Buffer.allocUnsafe(1 + HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    const c1 = out.subarray(1);
    randomBytes(HANDSHAKE_SIZE).copy(c1);
    c1.writeUInt32BE(0, 0);
    if (this.complex) {
      CLIENT_VERSION.copy(c1, 4);
      this.c1Digest = imprintDigest(c1, 1, FP_TEXT);
    } else {
      c1.writeUInt32BE(0, 4);
    }
    this.c1 = Buffer.from(c1);
    this.state = 's0s1s2';
    return out;
  }

  feed(buf: Buffer): HandshakeStep {
    if (this.state === 'idle') throw new RtmpError('handshake', 'data before the client handshake started');
    if (this.state === 'done') return { send: [], done: true, rest: buf.length > 0 ? buf : null };
    const off = this.s0s1s2.take(buf, 0);
    const pkt = this.s0s1s2.bytes;
    if (off > 0 && pkt[0] !== RTMP_VERSION) {
      throw new RtmpError('handshake', `server answered with version byte ${pkt[0]} (expected 3)`);
    }
    if (!this.s0s1s2.full) return { send: [], done: false, rest: null };
    const s1 = pkt.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = pkt.subarray(1 + HANDSHAKE_SIZE);
    let c2: Buffer;
    // A server that puts version 0 in S1 answers with the simple handshake.
    if (this.complex && s1.readUInt32BE(4) !== 0) {
      const serverDigest = findDigest(s1, FMS_TEXT);
      if (!serverDigest) throw new RtmpError('handshake', 'server S1 digest is invalid');
      if (!checkSignedResponse(s2, FMS_KEY_FULL, this.c1Digest as Buffer)) {
        throw new RtmpError('handshake', 'server S2 signature mismatch');
      }
      this.mode = 'complex';
      c2 = signedResponse(FP_KEY_FULL, serverDigest.digest);
    } else {
      this.mode = 'simple';
      c2 = Buffer.from(s1);
    }
    this.state = 'done';
    return { send: [c2], done: true, rest: off < buf.length ? buf.subarray(off) : null };
  }

  /** The C1 we sent (for tests). */
  get sentC1(): Buffer | null {
    return this.c1;
  }
}

/** Key material for tests and tools that check handshakes by hand. */
export const HANDSHAKE_KEYS = {
  serverText: FMS_TEXT,
  serverFull: FMS_KEY_FULL,
  playerText: FP_TEXT,
  playerFull: FP_KEY_FULL,
} as const;
