/**
 * HLS AES-128 (`hls_keys on`, RFC 8216 §5.2): a whole segment encrypted
 * with AES-128-CBC and PKCS7 padding, with a 16-byte key file and an IV
 * announced in `#EXT-X-KEY`. SRS draws a new random key and IV every
 * `hls_fragments_per_key` segments; the segments in between share them.
 * Pure functions over buffers (node:crypto), no I/O.
 */
import { createCipheriv, randomBytes } from 'node:crypto';

const HLS_KEY_BYTES = 16;

export interface HlsKey {
  /** 16 bytes: the content of the key file. */
  key: Buffer;
  /** 16 bytes. */
  iv: Buffer;
  /** Sequence number of the first segment it encrypts (`[seq]` of the key file name). */
  seq: number;
}

export class HlsCipherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HlsCipherError';
  }
}

export function newHlsKey(seq: number): HlsKey {
  return { key: randomBytes(HLS_KEY_BYTES), iv: randomBytes(HLS_KEY_BYTES), seq };
}

/** Whether the segment with this sequence number starts a new key (SRS: seq % hls_fragments_per_key == 0). */
export function startsNewKey(seq: number, fragmentsPerKey: number, current: HlsKey | null): boolean {
  if (!current) return true;
  const n = Math.max(1, Math.floor(fragmentsPerKey));
  return seq % n === 0;
}

/** The segment's bytes, AES-128-CBC with PKCS7 padding (output is the next multiple of 16 above the input). */
export function encryptSegment(chunks: readonly Buffer[], k: Pick<HlsKey, 'key' | 'iv'>): Buffer[] {
  if (k.key.length !== HLS_KEY_BYTES || k.iv.length !== HLS_KEY_BYTES) throw new HlsCipherError('HLS key and IV must be 16 bytes');
  const c = createCipheriv('aes-128-cbc', k.key, k.iv);
  const out: Buffer[] = [];
  for (const b of chunks) {
    const e = c.update(b);
    if (e.length > 0) out.push(e);
  }
  out.push(c.final());
  return out;
}

/** The IV as written in `IV=0x...`: 32 hex digits. */
export function ivHex(iv: Buffer): string {
  return iv.toString('hex');
}
