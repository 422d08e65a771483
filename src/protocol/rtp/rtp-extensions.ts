/**
 * RTP header extensions (RFC 8285): the value of one element by its
 * negotiated ID, in the one-byte (0xBEDE) or two-byte (0x100X) form. Used
 * to read a simulcast layer's RID and the MID of a BUNDLEd packet; reads
 * only, and a malformed block reads as "absent".
 */

/** The value of extension `id` in the RTP packet `buf`, or null (absent, or the block is malformed). */
export function rtpExtension(buf: Buffer, id: number): Buffer | null {
  if (id <= 0 || buf.length < 16 || (buf[0]! & 0x10) === 0) return null;
  const off = 12 + (buf[0]! & 0x0f) * 4;
  if (off + 4 > buf.length) return null;
  const profile = buf.readUInt16BE(off);
  const end = off + 4 + buf.readUInt16BE(off + 2) * 4;
  if (end > buf.length) return null;
  let p = off + 4;
  if (profile === 0xbede) {
    while (p < end) {
      const b = buf[p]!;
      if (b === 0) {
        p++; // padding
        continue;
      }
      const eid = b >> 4;
      if (eid === 15) return null; // reserved: stop reading (RFC 8285 4.2)
      const len = (b & 0x0f) + 1;
      if (p + 1 + len > end) return null;
      if (eid === id) return buf.subarray(p + 1, p + 1 + len);
      p += 1 + len;
    }
  } else if ((profile & 0xfff0) === 0x1000) {
    while (p < end) {
      const eid = buf[p]!;
      if (eid === 0) {
        p++;
        continue;
      }
      if (p + 2 > end) return null;
      const len = buf[p + 1]!;
      if (p + 2 + len > end) return null;
      if (eid === id) return buf.subarray(p + 2, p + 2 + len);
      p += 2 + len;
    }
  }
  return null;
}

/** An SDES-item extension (MID, RID) as text, or null. */
export function rtpExtensionText(buf: Buffer, id: number): string | null {
  const v = rtpExtension(buf, id);
  return v ? v.toString('latin1') : null;
}
