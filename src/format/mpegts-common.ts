/**
 * MPEG-TS (ISO/IEC 13818-1) constants, the typed error and the CRC-32 that
 * PSI sections carry. Shared by the muxer and the demuxer.
 */

export const TS_PACKET_SIZE = 188;
export const TS_SYNC_BYTE = 0x47;

/** PIDs as SRS writes them (PMT 0x1001, video 0x100, audio 0x101). */
export const TS_PID_PAT = 0x0000;
export const TS_PID_PMT = 0x1001;
export const TS_PID_VIDEO = 0x0100;
export const TS_PID_AUDIO = 0x0101;

/** PMT stream_type values for the codecs HLS carries. */
export const TsStreamType = {
  MP3: 0x03,
  MPEG2Audio: 0x04,
  /** PES private data: Opus when the ES has a registration descriptor 'Opus'. */
  PrivateData: 0x06,
  AAC: 0x0f,
  H264: 0x1b,
  HEVC: 0x24,
} as const;

export class TsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TsError';
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2 (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final xor). */
export function crc32Mpeg2(buf: Buffer, start = 0, end = buf.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ buf[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}
