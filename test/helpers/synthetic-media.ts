/**
 * Minimal but well-formed FLV tag bodies for tests and scripts that publish
 * through the socket RTMP client (no encoder): an AVC sequence header, AVC
 * frames of any size, an AAC sequence header and an AAC frame.
 */
export const AVC_CONFIG = Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64, 0x00, 0x1f, 0x01, 0x00, 0x02, 0x68, 0xee]);
export const AAC_CONFIG = Buffer.from([0xaf, 0x00, 0x12, 0x10]);
export const AAC_FRAME = Buffer.concat([Buffer.from([0xaf, 0x01]), Buffer.alloc(200, 0x11)]);

/** One length-prefixed NAL unit of `size` bytes: an IDR when `key`, else a non-IDR slice. */
export function avcFrame(key: boolean, size: number): Buffer {
  const b = Buffer.alloc(5 + 4 + size, 0x22);
  b[0] = key ? 0x17 : 0x27;
  b[1] = 1;
  b.writeUIntBE(0, 2, 3);
  b.writeUInt32BE(size, 5);
  b[9] = key ? 0x65 : 0x41;
  return b;
}
