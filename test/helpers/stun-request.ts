/**
 * Builds ICE connectivity checks the way a browser sends them (USERNAME,
 * PRIORITY, ICE-CONTROLLING, optional USE-CANDIDATE, MESSAGE-INTEGRITY,
 * FINGERPRINT), written here from RFC 8489/8445 independently of
 * src/protocol/stun so that tests check one against the other.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(value.length, 2);
  value.copy(b, 4);
  return b;
}

export interface CheckOptions {
  username: string;
  password: string;
  useCandidate?: boolean;
  transactionId?: Buffer;
}

export function bindingRequest(o: CheckOptions): Buffer {
  const tid = o.transactionId ?? randomBytes(12);
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(1853824767, 0);
  const attrs = [attr(0x0006, Buffer.from(o.username)), attr(0x0024, prio), attr(0x802a, randomBytes(8))];
  if (o.useCandidate) attrs.push(attr(0x0025, Buffer.alloc(0)));
  const body = Buffer.concat(attrs);
  const head = Buffer.alloc(20);
  head.writeUInt16BE(0x0001, 0);
  head.writeUInt16BE(body.length + 24, 2);
  head.writeUInt32BE(0x2112a442, 4);
  tid.copy(head, 8);
  const mac = createHmac('sha1', o.password).update(Buffer.concat([head, body])).digest();
  const signed = Buffer.concat([head, body, attr(0x0008, mac)]);
  signed.writeUInt16BE(signed.length - 20 + 8, 2);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(signed) ^ 0x5354554e) >>> 0, 0);
  return Buffer.concat([signed, attr(0x8028, fp)]);
}

/** The XOR-MAPPED-ADDRESS of a STUN message, decoded, or null. */
export function xorMappedAddress(b: Buffer): { family: 4 | 6; address: string; port: number } | null {
  for (let off = 20; off + 4 <= b.length; ) {
    const type = b.readUInt16BE(off);
    const len = b.readUInt16BE(off + 2);
    if (type === 0x0020) {
      const fam = b[off + 5];
      const port = b.readUInt16BE(off + 6) ^ 0x2112;
      const key = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), b.subarray(8, 20)]);
      const ip = Buffer.from(b.subarray(off + 8, off + 4 + len));
      for (let i = 0; i < ip.length; i++) ip[i] ^= key[i]!;
      if (fam === 1) return { family: 4, address: [...ip].join('.'), port };
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(ip.readUInt16BE(i).toString(16));
      return { family: 6, address: groups.join(':'), port };
    }
    off += 4 + ((len + 3) & ~3);
  }
  return null;
}

/** True when the FINGERPRINT attribute (the last one) matches the message. */
export function fingerprintOk(b: Buffer): boolean {
  const at = b.length - 8;
  if (at < 20 || b.readUInt16BE(at) !== 0x8028) return false;
  return ((crc32(b.subarray(0, at)) ^ 0x5354554e) >>> 0) === b.readUInt32BE(at + 4);
}
