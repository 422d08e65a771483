/**
 * AMF0 encoder/decoder (Action Message Format, as used by RTMP commands and
 * FLV script data), with enough AMF3 to survive the 0x11 "switch to AMF3"
 * marker that some Flash-era clients put inside AMF0 command messages.
 *
 * Decoding is bounded: every declared length is checked against the limits
 * (AmfLimits) and then against the bytes that are actually there, before
 * anything is read or allocated; nesting and property counts are limited so a
 * hostile peer can neither blow the stack nor build huge objects.
 */

export interface Amf0Object {
  [key: string]: Amf0Value;
}

/**
 * Marks an object that must be encoded as an ECMA array (marker 0x08), which
 * is what onMetaData and SRS's connect `data` use. Decoding returns ECMA
 * arrays as plain objects.
 */
export class Amf0EcmaArray {
  constructor(public readonly value: Amf0Object) {}
}

export type Amf0Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Amf0Value[]
  | Amf0Object
  | Amf0EcmaArray;

export class AmfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AmfError';
  }
}

/** AMF0 type markers. */
const AMF0 = {
  NUMBER: 0x00,
  BOOLEAN: 0x01,
  STRING: 0x02,
  OBJECT: 0x03,
  MOVIECLIP: 0x04,
  NULL: 0x05,
  UNDEFINED: 0x06,
  REFERENCE: 0x07,
  ECMA_ARRAY: 0x08,
  OBJECT_END: 0x09,
  STRICT_ARRAY: 0x0a,
  DATE: 0x0b,
  LONG_STRING: 0x0c,
  UNSUPPORTED: 0x0d,
  RECORDSET: 0x0e,
  XML_DOCUMENT: 0x0f,
  TYPED_OBJECT: 0x10,
  AVMPLUS: 0x11,
} as const;

/** What one decode call accepts; a peer that declares more gets an AmfError before any allocation. */
export interface AmfLimits {
  /** Longest string (AMF0 string, long string, XML, AMF3 string) in bytes. */
  maxStringBytes: number;
  /** Most properties in one object or ECMA array, and elements in one strict array. */
  maxProperties: number;
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
}

/** Script data (onMetaData with keyframe tables): generous, bounded by the message anyway. */
export const AMF_DATA_LIMITS: AmfLimits = { maxStringBytes: 1024 * 1024, maxProperties: 65_536, maxDepth: 64 };

/** Commands (connect, publish, play, ...): real ones have a dozen short fields nested 2-3 deep. */
export const AMF_COMMAND_LIMITS: AmfLimits = { maxStringBytes: 8 * 1024, maxProperties: 256, maxDepth: 16 };

/** Encoding refuses cycles by depth; decoding uses the caller's limits. */
const AMF_MAX_DEPTH = 64;

// ---------------------------------------------------------------------------
// Decoding

/**
 * Per-call decoding context: the AMF0 reference table and the AMF3 string
 * table live for one top-level decode call.
 */
class Decoder {
  readonly refs: Amf0Value[] = [];
  readonly amf3Strings: string[] = [];
  constructor(
    readonly buf: Buffer,
    readonly limits: AmfLimits,
  ) {}

  /** Refuses a declared string length by the limit, before looking for the bytes. */
  private strLen(len: number, what: string): number {
    if (len > this.limits.maxStringBytes) throw new AmfError(`${what} of ${len} bytes exceeds limit ${this.limits.maxStringBytes}`);
    return len;
  }

  private nest(depth: number): void {
    if (depth + 1 > this.limits.maxDepth) throw new AmfError(`AMF nesting deeper than ${this.limits.maxDepth}`);
  }

  private need(offset: number, n: number, what: string): void {
    if (offset + n > this.buf.length) {
      throw new AmfError(`truncated ${what} at offset ${offset}: need ${n} bytes, have ${this.buf.length - offset}`);
    }
  }

  private utf8(offset: number, len: number, what: string): string {
    this.need(offset, len, what);
    return this.buf.toString('utf8', offset, offset + len);
  }

  value(offset: number, depth: number): { value: Amf0Value; offset: number } {
    const buf = this.buf;
    this.need(offset, 1, 'type marker');
    const marker = buf[offset++];
    switch (marker) {
      case AMF0.NUMBER:
        this.need(offset, 8, 'number');
        return { value: buf.readDoubleBE(offset), offset: offset + 8 };
      case AMF0.BOOLEAN:
        this.need(offset, 1, 'boolean');
        return { value: buf[offset] !== 0, offset: offset + 1 };
      case AMF0.STRING: {
        this.need(offset, 2, 'string length');
        const len = this.strLen(buf.readUInt16BE(offset), 'string');
        return { value: this.utf8(offset + 2, len, 'string'), offset: offset + 2 + len };
      }
      case AMF0.LONG_STRING:
      case AMF0.XML_DOCUMENT: {
        this.need(offset, 4, 'long string length');
        const len = this.strLen(buf.readUInt32BE(offset), 'long string');
        return { value: this.utf8(offset + 4, len, 'long string'), offset: offset + 4 + len };
      }
      case AMF0.NULL:
        return { value: null, offset };
      case AMF0.UNDEFINED:
      case AMF0.UNSUPPORTED:
        return { value: undefined, offset };
      case AMF0.REFERENCE: {
        this.need(offset, 2, 'reference');
        const idx = buf.readUInt16BE(offset);
        // Tolerated: an unknown index decodes as undefined rather than failing.
        return { value: idx < this.refs.length ? this.refs[idx] : undefined, offset: offset + 2 };
      }
      case AMF0.OBJECT: {
        const obj: Amf0Object = {};
        this.refs.push(obj);
        return { value: obj, offset: this.properties(obj, offset, depth) };
      }
      case AMF0.TYPED_OBJECT: {
        // Class name is dropped; the properties are what matters to us.
        this.need(offset, 2, 'class name length');
        const len = this.strLen(buf.readUInt16BE(offset), 'class name');
        this.need(offset + 2, len, 'class name');
        const obj: Amf0Object = {};
        this.refs.push(obj);
        return { value: obj, offset: this.properties(obj, offset + 2 + len, depth) };
      }
      case AMF0.ECMA_ARRAY: {
        // The declared count is unreliable in the wild; read until object end.
        this.need(offset, 4, 'ECMA array count');
        const obj: Amf0Object = {};
        this.refs.push(obj);
        return { value: obj, offset: this.properties(obj, offset + 4, depth) };
      }
      case AMF0.STRICT_ARRAY: {
        this.need(offset, 4, 'strict array count');
        const count = buf.readUInt32BE(offset);
        offset += 4;
        if (count > this.limits.maxProperties) throw new AmfError(`strict array count ${count} exceeds limit ${this.limits.maxProperties}`);
        // Every element takes at least one byte: reject impossible counts up front.
        if (count > buf.length - offset) {
          throw new AmfError(`strict array count ${count} exceeds remaining ${buf.length - offset} bytes`);
        }
        this.nest(depth);
        const arr: Amf0Value[] = [];
        this.refs.push(arr);
        for (let i = 0; i < count; i++) {
          const r = this.value(offset, depth + 1);
          arr.push(r.value);
          offset = r.offset;
        }
        return { value: arr, offset };
      }
      case AMF0.DATE: {
        this.need(offset, 10, 'date');
        const ms = buf.readDoubleBE(offset);
        // The 2-byte time zone is ignored, as every modern implementation does.
        return { value: new Date(ms), offset: offset + 10 };
      }
      case AMF0.OBJECT_END:
        throw new AmfError(`unexpected object end marker at offset ${offset - 1}`);
      case AMF0.AVMPLUS:
        return this.amf3Value(offset);
      default:
        throw new AmfError(`unsupported AMF0 marker 0x${marker.toString(16)} at offset ${offset - 1}`);
    }
  }

  /** Reads `key value` pairs until the empty key + object end marker. */
  private properties(obj: Amf0Object, offset: number, depth: number): number {
    this.nest(depth);
    const buf = this.buf;
    for (let count = 0; ; count++) {
      this.need(offset, 2, 'property name length');
      const len = this.strLen(buf.readUInt16BE(offset), 'property name');
      offset += 2;
      if (len === 0) {
        this.need(offset, 1, 'object end');
        if (buf[offset] === AMF0.OBJECT_END) return offset + 1;
      }
      if (count >= this.limits.maxProperties) throw new AmfError(`object with more than ${this.limits.maxProperties} properties`);
      const key = this.utf8(offset, len, 'property name');
      offset += len;
      const r = this.value(offset, depth + 1);
      setProperty(obj, key, r.value);
      offset = r.offset;
    }
  }

  // --- AMF3 (only the scalar types RTMP clients put in commands) ---

  private u29(offset: number): { value: number; offset: number } {
    const buf = this.buf;
    let v = 0;
    for (let i = 0; i < 3; i++) {
      this.need(offset, 1, 'AMF3 integer');
      const b = buf[offset++];
      v = (v << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) return { value: v, offset };
    }
    this.need(offset, 1, 'AMF3 integer');
    // The fourth byte carries 8 full bits.
    v = (v << 8) | buf[offset++];
    return { value: v >>> 0, offset };
  }

  private amf3Value(offset: number): { value: Amf0Value; offset: number } {
    this.need(offset, 1, 'AMF3 marker');
    const marker = this.buf[offset++];
    switch (marker) {
      case 0x00:
        return { value: undefined, offset };
      case 0x01:
        return { value: null, offset };
      case 0x02:
        return { value: false, offset };
      case 0x03:
        return { value: true, offset };
      case 0x04: {
        const r = this.u29(offset);
        // Sign-extend the 29-bit integer.
        const v = r.value & 0x10000000 ? r.value - 0x20000000 : r.value;
        return { value: v, offset: r.offset };
      }
      case 0x05:
        this.need(offset, 8, 'AMF3 double');
        return { value: this.buf.readDoubleBE(offset), offset: offset + 8 };
      case 0x06: {
        const r = this.u29(offset);
        if ((r.value & 1) === 0) {
          const idx = r.value >>> 1;
          if (idx >= this.amf3Strings.length) throw new AmfError(`AMF3 string reference ${idx} out of range`);
          return { value: this.amf3Strings[idx], offset: r.offset };
        }
        const len = this.strLen(r.value >>> 1, 'AMF3 string');
        const s = this.utf8(r.offset, len, 'AMF3 string');
        // The empty string is never put in the reference table.
        if (len > 0) this.amf3Strings.push(s);
        return { value: s, offset: r.offset + len };
      }
      default:
        throw new AmfError(`unsupported AMF3 marker 0x${marker.toString(16)} at offset ${offset - 1}`);
    }
  }
}

function setProperty(obj: Amf0Object, key: string, value: Amf0Value): void {
  // Plain assignment of "__proto__" would change the object's prototype.
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** Decodes one AMF0 value at `offset`. Throws AmfError on bad or truncated input. */
export function decodeAmf0Value(buf: Buffer, offset: number, limits: AmfLimits = AMF_DATA_LIMITS): { value: Amf0Value; offset: number } {
  return new Decoder(buf, limits).value(offset, 0);
}

/**
 * Decodes consecutive AMF0 values until the end of `buf` (or until `max`
 * values were read). References and AMF3 strings resolve across values.
 */
export function decodeAmf0(buf: Buffer, max = Infinity, limits: AmfLimits = AMF_DATA_LIMITS): Amf0Value[] {
  const d = new Decoder(buf, limits);
  const out: Amf0Value[] = [];
  let offset = 0;
  while (offset < buf.length && out.length < max) {
    const r = d.value(offset, 0);
    out.push(r.value);
    offset = r.offset;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Encoding

/** Growable output; commands are small so a 256-byte start is usually enough. */
class Writer {
  buf = Buffer.allocUnsafe(256);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  /** Writes a string with a 16-bit (short) or 32-bit (long) length prefix. */
  str(s: string, long: boolean): void {
    const len = Buffer.byteLength(s, 'utf8');
    if (long) this.u32(len);
    else this.u16(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }
}

function encodeValue(w: Writer, v: Amf0Value, depth: number): void {
  if (depth > AMF_MAX_DEPTH) throw new AmfError(`AMF nesting deeper than ${AMF_MAX_DEPTH} (cyclic value?)`);
  if (v === null) {
    w.u8(AMF0.NULL);
  } else if (v === undefined) {
    w.u8(AMF0.UNDEFINED);
  } else if (typeof v === 'number') {
    w.u8(AMF0.NUMBER);
    w.f64(v);
  } else if (typeof v === 'boolean') {
    w.u8(AMF0.BOOLEAN);
    w.u8(v ? 1 : 0);
  } else if (typeof v === 'string') {
    if (Buffer.byteLength(v, 'utf8') > 0xffff) {
      w.u8(AMF0.LONG_STRING);
      w.str(v, true);
    } else {
      w.u8(AMF0.STRING);
      w.str(v, false);
    }
  } else if (v instanceof Date) {
    w.u8(AMF0.DATE);
    w.f64(v.getTime());
    w.u16(0);
  } else if (Array.isArray(v)) {
    w.u8(AMF0.STRICT_ARRAY);
    w.u32(v.length);
    for (const item of v) encodeValue(w, item, depth + 1);
  } else if (v instanceof Amf0EcmaArray) {
    w.u8(AMF0.ECMA_ARRAY);
    w.u32(Object.keys(v.value).length);
    encodeProperties(w, v.value, depth);
  } else {
    w.u8(AMF0.OBJECT);
    encodeProperties(w, v, depth);
  }
}

function encodeProperties(w: Writer, obj: Amf0Object, depth: number): void {
  for (const key of Object.keys(obj)) {
    if (Buffer.byteLength(key, 'utf8') > 0xffff) throw new AmfError('AMF0 property name longer than 65535 bytes');
    w.str(key, false);
    encodeValue(w, obj[key], depth + 1);
  }
  w.u16(0);
  w.u8(AMF0.OBJECT_END);
}

/** Encodes values back to back (a command or data message body). */
export function encodeAmf0(values: Amf0Value[]): Buffer {
  const w = new Writer();
  for (const v of values) encodeValue(w, v, 0);
  // Copy out so the result does not pin the (possibly much larger) work buffer.
  return Buffer.from(w.buf.subarray(0, w.pos));
}
