/**
 * Opus in MPEG-TS (ETSI TS 102 366-ish "Opus in TS", as FFmpeg reads and
 * writes it): stream_type 0x06 (private PES) with a registration descriptor
 * 'Opus' and a DVB extension descriptor (tag 0x7f, extension 0x80) holding
 * channel_config_code; in the PES every Opus packet has an
 * opus_control_header: 11 bits 0x3ff, start_trim/end_trim/control_extension
 * flags, au_size as 0xff bytes plus a last byte, the optional trims and
 * extension, then the packet.
 */
import { TsError } from './mpegts-common.js';

export const OPUS_REGISTRATION = 'Opus';

export interface OpusTsPacket {
  packet: Buffer;
  /** Samples at 48 kHz to drop at the start (the first packet's pre-skip), 0 if absent. */
  startTrim: number;
  endTrim: number;
}

/** Splits one PES payload into its Opus packets (subarrays). Throws TsError on bad framing. */
export function parseOpusTsPayload(b: Buffer): OpusTsPacket[] {
  const out: OpusTsPacket[] = [];
  let o = 0;
  while (o < b.length) {
    if (o + 3 > b.length) throw new TsError(`Opus in TS: control header truncated at ${o}`);
    if (b[o] !== 0x7f || (b[o + 1]! & 0xe0) !== 0xe0) throw new TsError(`Opus in TS: no control header prefix at ${o}`);
    const flags = b[o + 1]!;
    o += 2;
    let size = 0;
    for (;;) {
      if (o >= b.length) throw new TsError('Opus in TS: au_size truncated');
      const v = b[o++]!;
      size += v;
      if (v !== 0xff) break;
    }
    let startTrim = 0;
    let endTrim = 0;
    if (flags & 0x10) {
      if (o + 2 > b.length) throw new TsError('Opus in TS: start_trim truncated');
      startTrim = b.readUInt16BE(o) & 0x1fff;
      o += 2;
    }
    if (flags & 0x08) {
      if (o + 2 > b.length) throw new TsError('Opus in TS: end_trim truncated');
      endTrim = b.readUInt16BE(o) & 0x1fff;
      o += 2;
    }
    if (flags & 0x04) {
      if (o >= b.length) throw new TsError('Opus in TS: control extension truncated');
      o += 1 + b[o]!;
    }
    if (o + size > b.length) throw new TsError(`Opus in TS: packet of ${size} bytes overruns the PES (${b.length - o} left)`);
    if (size > 0) out.push({ packet: b.subarray(o, o + size), startTrim, endTrim });
    o += size;
  }
  return out;
}

/** The control header for one packet of `size` bytes (no trims, no extension). */
export function opusControlHeader(size: number): Buffer {
  const n = Math.floor(size / 255);
  const h = Buffer.alloc(2 + n + 1, 0xff);
  h[0] = 0x7f;
  h[1] = 0xe0;
  h[2 + n] = size - n * 255;
  return h;
}

/** The ES info of an Opus stream: what the PMT's ES loop carries (registration + extension descriptor). */
export function opusEsInfo(channels: number): Buffer {
  return Buffer.from([0x05, 4, 0x4f, 0x70, 0x75, 0x73, 0x7f, 2, 0x80, channels & 0xff]);
}

/** Opus channels from the ES info's channel_config_code: 1..8 as is, 0 (dual mono) as 2; -1 without it. */
export function opusChannelsFromEsInfo(esInfo: Buffer): number {
  let o = 0;
  while (o + 2 <= esInfo.length) {
    const tag = esInfo[o]!;
    const len = esInfo[o + 1]!;
    if (o + 2 + len > esInfo.length) return -1;
    if (tag === 0x7f && len >= 2 && esInfo[o + 2] === 0x80) {
      const code = esInfo[o + 3]!;
      if (code === 0) return 2;
      return code <= 8 ? code : -1;
    }
    o += 2 + len;
  }
  return -1;
}
