/** Test-side MSB-first bit writer with exp-Golomb codes, to build codec vectors by hand. */
export class BitWriter {
  private bits: number[] = [];

  u(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) % 2);
    return this;
  }

  ue(v: number): this {
    const x = v + 1;
    const len = Math.floor(Math.log2(x));
    this.u(len, 0);
    return this.u(len + 1, x);
  }

  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }

  /** The bits so far, zero-padded to a whole byte. */
  bytes(): Buffer {
    const out = Buffer.alloc(Math.ceil(this.bits.length / 8));
    this.bits.forEach((b, i) => {
      if (b) out[i >> 3]! |= 0x80 >> (i & 7);
    });
    return out;
  }

  /** rbsp_trailing_bits (a 1, then zeros to the byte), then the bytes. */
  finish(): Buffer {
    this.bits.push(1);
    return this.bytes();
  }
}
