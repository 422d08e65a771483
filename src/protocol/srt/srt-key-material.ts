/**
 * SRT encryption (draft-sharabayko-srt §3.2.2, §6): the Key Material message
 * a caller sends in its KMREQ, the key-encrypting key derived from the
 * passphrase (PBKDF2-HMAC-SHA1, 2048 rounds, salted with the salt's last 8
 * bytes), the stream keys wrapped with RFC 3394 AES key wrap, and AES-CTR on
 * each data payload with an IV made of the salt and the packet's sequence
 * number. All through node:crypto.
 */
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { SrtError } from './srt-error.js';

const KM_SIGN = 0x2029;
const CIPHER_AES_CTR = 2;
const SALT_LEN = 16;
const WRAP_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
const PBKDF2_ROUNDS = 2048;

export interface KeyMaterial {
  /** KK: 1 even key present, 2 odd, 3 both. */
  keyFlags: number;
  keyLength: number;
  salt: Buffer;
  wrapped: Buffer;
}

export function parseKeyMaterial(b: Buffer): KeyMaterial {
  if (b.length < 16) throw new SrtError(`key material of ${b.length} bytes`);
  if (b[0] !== 0x12 || b.readUInt16BE(1) !== KM_SIGN) throw new SrtError('key material without its signature');
  const keyFlags = b[3]! & 3;
  if (keyFlags === 0) throw new SrtError('key material without a key');
  if (b[8] !== CIPHER_AES_CTR) throw new SrtError(`key material cipher ${b[8]} (only AES-CTR)`);
  const saltLen = b[14]! * 4;
  const keyLength = b[15]! * 4;
  if (saltLen !== SALT_LEN || (keyLength !== 16 && keyLength !== 24 && keyLength !== 32)) throw new SrtError(`key material with salt ${saltLen} / key ${keyLength} bytes`);
  const keys = keyFlags === 3 ? 2 : 1;
  const wrappedLen = 8 + keys * keyLength;
  if (b.length < 16 + saltLen + wrappedLen) throw new SrtError('key material truncated');
  return { keyFlags, keyLength, salt: Buffer.from(b.subarray(16, 16 + saltLen)), wrapped: Buffer.from(b.subarray(16 + saltLen, 16 + saltLen + wrappedLen)) };
}

export function buildKeyMaterial(km: KeyMaterial): Buffer {
  const b = Buffer.alloc(16 + km.salt.length + km.wrapped.length);
  b[0] = 0x12;
  b.writeUInt16BE(KM_SIGN, 1);
  b[3] = km.keyFlags & 3;
  b[8] = CIPHER_AES_CTR;
  b[10] = 2; // stream encapsulation: MPEG-TS/SRT
  b[14] = km.salt.length / 4;
  b[15] = km.keyLength / 4;
  km.salt.copy(b, 16);
  km.wrapped.copy(b, 16 + km.salt.length);
  return b;
}

function kekOf(passphrase: string, salt: Buffer, keyLength: number): Buffer {
  return pbkdf2Sync(passphrase, salt.subarray(SALT_LEN - 8), PBKDF2_ROUNDS, keyLength, 'sha1');
}

function wrapAlgorithm(keyLength: number): string {
  return `id-aes${keyLength * 8}-wrap`;
}

/** The stream keys: [even, odd], either may be null. */
export interface StreamKeys {
  even: Buffer | null;
  odd: Buffer | null;
  salt: Buffer;
  keyLength: number;
}

/** Unwraps the caller's keys; null when the passphrase is wrong (the RFC 3394 integrity check fails). */
export function unwrapKeys(km: KeyMaterial, passphrase: string): StreamKeys | null {
  const kek = kekOf(passphrase, km.salt, km.keyLength);
  let plain: Buffer;
  try {
    const d = createDecipheriv(wrapAlgorithm(km.keyLength), kek, WRAP_IV);
    plain = Buffer.concat([d.update(km.wrapped), d.final()]);
  } catch {
    return null;
  }
  const first = plain.subarray(0, km.keyLength);
  const second = km.keyFlags === 3 ? plain.subarray(km.keyLength, 2 * km.keyLength) : null;
  return {
    even: km.keyFlags & 1 ? first : null,
    odd: km.keyFlags === 2 ? first : second,
    salt: km.salt,
    keyLength: km.keyLength,
  };
}

/** Makes fresh key material for a passphrase (one even key): what a caller sends; used by tests and callers of our own. */
export function newKeyMaterial(passphrase: string, keyLength: number): { km: KeyMaterial; keys: StreamKeys } {
  const keys: StreamKeys = { even: randomBytes(keyLength), odd: null, salt: randomBytes(SALT_LEN), keyLength };
  return { km: wrapKeys(keys, passphrase), keys };
}

/** The key material that carries `keys` (even first when both), wrapped for the passphrase. */
export function wrapKeys(keys: StreamKeys, passphrase: string): KeyMaterial {
  const present = [keys.even, keys.odd].filter((k): k is Buffer => k !== null);
  if (present.length === 0) throw new SrtError('key material without a key');
  const c = createCipheriv(wrapAlgorithm(keys.keyLength), kekOf(passphrase, keys.salt, keys.keyLength), WRAP_IV);
  const wrapped = Buffer.concat([c.update(Buffer.concat(present)), c.final()]);
  return { keyFlags: (keys.even ? 1 : 0) | (keys.odd ? 2 : 0), keyLength: keys.keyLength, salt: keys.salt, wrapped };
}

/** AES-CTR over one payload; the same call encrypts and decrypts. */
export function cryptPayload(keys: StreamKeys, keyFlags: number, seq: number, payload: Buffer): Buffer {
  const key = keyFlags === 2 ? keys.odd : keys.even;
  if (!key) throw new SrtError(`no ${keyFlags === 2 ? 'odd' : 'even'} key for an encrypted packet`);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seq >>> 0, 10);
  for (let i = 0; i < 14; i++) iv[i] = iv[i]! ^ keys.salt[i]!;
  const c = createCipheriv(`aes-${keys.keyLength * 8}-ctr`, key, iv);
  return Buffer.concat([c.update(payload), c.final()]);
}
