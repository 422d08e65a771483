/**
 * The little of STUN (RFC 8489) a WebRTC server needs outside its ICE
 * stack: read a Binding message's USERNAME, PRIORITY, USE-CANDIDATE and
 * transaction id, check its MESSAGE-INTEGRITY with ICE's short-term
 * password (RFC 8445 §7.2.2), and write a Binding success response.
 * Pure functions over buffers; nothing here allocates per attribute.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { isIP } from 'node:net';

const STUN_MAGIC = 0x2112a442;
const HEADER = 20;
const ATTR_USERNAME = 0x0006;
const ATTR_MESSAGE_INTEGRITY = 0x0008;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const ATTR_PRIORITY = 0x0024;
const ATTR_USE_CANDIDATE = 0x0025;
const ATTR_FINGERPRINT = 0x8028;
const FINGERPRINT_XOR = 0x5354554e;

type StunClass = 'request' | 'indication' | 'success' | 'error';

export interface StunMessage {
  method: number;
  cls: StunClass;
  /** The 12-byte transaction id, as lowercase hex (a map key). */
  transactionId: string;
  username: string | null;
  priority: number | null;
  useCandidate: boolean;
  /** Offset of the MESSAGE-INTEGRITY attribute, or -1. */
  integrityAt: number;
}

const CLASSES: readonly StunClass[] = ['request', 'indication', 'success', 'error'];

/** True when the first bytes say STUN (RFC 7983: first byte 0–3, magic cookie, whole message). */
export function looksLikeStun(b: Buffer): boolean {
  return b.length >= HEADER && b[0]! <= 3 && b.readUInt32BE(4) === STUN_MAGIC && (b.readUInt16BE(2) & 3) === 0 && b.readUInt16BE(2) + HEADER === b.length;
}

/** Parses a STUN message, or returns null for anything malformed (never throws). */
export function parseStun(b: Buffer): StunMessage | null {
  if (!looksLikeStun(b)) return null;
  const type = b.readUInt16BE(0);
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = CLASSES[((type & 0x0010) >> 4) | ((type & 0x0100) >> 7)]!;
  const msg: StunMessage = { method, cls, transactionId: b.toString('hex', 8, 20), username: null, priority: null, useCandidate: false, integrityAt: -1 };
  let off = HEADER;
  while (off + 4 <= b.length) {
    const at = b.readUInt16BE(off);
    const len = b.readUInt16BE(off + 2);
    const v = off + 4;
    if (v + len > b.length) return null;
    // Attributes after MESSAGE-INTEGRITY (but FINGERPRINT) are not covered by it: ignored, as RFC 8489 §14.5 says.
    if (msg.integrityAt < 0) {
      if (at === ATTR_USERNAME) msg.username = b.toString('utf8', v, v + len);
      else if (at === ATTR_PRIORITY && len === 4) msg.priority = b.readUInt32BE(v);
      else if (at === ATTR_USE_CANDIDATE) msg.useCandidate = true;
      else if (at === ATTR_MESSAGE_INTEGRITY) {
        if (len !== 20) return null;
        msg.integrityAt = off;
      }
    }
    off = v + ((len + 3) & ~3);
  }
  return off === b.length ? msg : null;
}

/** Checks MESSAGE-INTEGRITY (HMAC-SHA1 keyed with the ICE password) of a parsed message. */
export function verifyIntegrity(b: Buffer, msg: StunMessage, password: string): boolean {
  if (msg.integrityAt < 0) return false;
  const at = msg.integrityAt;
  // The HMAC covers the message up to the attribute, with the length field as if MESSAGE-INTEGRITY ended it.
  const head = Buffer.from(b.subarray(0, HEADER));
  head.writeUInt16BE(at - HEADER + 24, 2);
  const mac = createHmac('sha1', password).update(head).update(b.subarray(HEADER, at)).digest();
  return timingSafeEqual(mac, b.subarray(at + 4, at + 24));
}

/** An address as STUN carries it; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is written as IPv4. */
export interface StunAddress {
  address: string;
  port: number;
}

function writeXorAddress(out: Buffer, off: number, a: StunAddress, tid: Buffer): number {
  const v4 = a.address.startsWith('::ffff:') && isIP(a.address.slice(7)) === 4 ? a.address.slice(7) : a.address;
  const ipv6 = isIP(v4) === 6;
  out.writeUInt16BE(ATTR_XOR_MAPPED_ADDRESS, off);
  out.writeUInt16BE(ipv6 ? 20 : 8, off + 2);
  out.writeUInt8(0, off + 4);
  out.writeUInt8(ipv6 ? 2 : 1, off + 5);
  out.writeUInt16BE(a.port ^ (STUN_MAGIC >>> 16), off + 6);
  const ip = ipv6 ? ipv6Bytes(v4) : Buffer.from(v4.split('.').map(Number));
  const key = Buffer.alloc(16);
  key.writeUInt32BE(STUN_MAGIC, 0);
  tid.copy(key, 4);
  for (let i = 0; i < ip.length; i++) out[off + 8 + i] = ip[i]! ^ key[i]!;
  return off + 8 + ip.length;
}

function ipv6Bytes(a: string): Buffer {
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) & 0xffff, i * 2));
  return out;
}

/**
 * A Binding success response for transaction `transactionId` (hex), telling
 * the peer the address it was seen from, signed with `password` and
 * fingerprinted (what ICE requires of a check's answer).
 */
export function bindingSuccess(transactionId: string, mapped: StunAddress, password: string): Buffer {
  const tid = Buffer.from(transactionId, 'hex');
  const out = Buffer.alloc(HEADER + 24 + 24 + 8);
  out.writeUInt16BE(0x0101, 0);
  out.writeUInt32BE(STUN_MAGIC, 4);
  tid.copy(out, 8);
  let off = writeXorAddress(out, HEADER, mapped, tid);
  out.writeUInt16BE(off - HEADER + 24, 2);
  const mac = createHmac('sha1', password).update(out.subarray(0, off)).digest();
  out.writeUInt16BE(ATTR_MESSAGE_INTEGRITY, off);
  out.writeUInt16BE(20, off + 2);
  mac.copy(out, off + 4);
  off += 24;
  out.writeUInt16BE(off - HEADER + 8, 2);
  out.writeUInt16BE(ATTR_FINGERPRINT, off);
  out.writeUInt16BE(4, off + 2);
  out.writeUInt32BE((crc32(out.subarray(0, off)) ^ FINGERPRINT_XOR) >>> 0, off + 4);
  return out.subarray(0, off + 8);
}
