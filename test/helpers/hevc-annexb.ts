/** An Annex-B H.265 elementary stream (libx265's `-f hevc`) cut into access units, for RTP tests. */
import { hevcNalType } from '../../src/protocol/rtp/h265-packetizer.js';

/** Annex-B → access units (a new one at a VPS or AUD, or at the first slice after slices). */
export function hevcAccessUnits(bytes: Buffer): Buffer[][] {
  const nals: Buffer[] = [];
  let start = -1;
  for (let i = 0; i + 3 <= bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      if (start >= 0) nals.push(bytes.subarray(start, i - (bytes[i - 1] === 0 ? 1 : 0)));
      start = i + 3;
      i += 2;
    }
  }
  nals.push(bytes.subarray(start));
  const aus: Buffer[][] = [];
  for (const n of nals) {
    const type = hevcNalType(n[0]!);
    const firstSlice = type < 32 && (n[2]! & 0x80) !== 0;
    if (!aus.length || type === 32 || type === 35 || (firstSlice && aus.at(-1)!.some((x) => hevcNalType(x[0]!) < 32))) aus.push([]);
    aus.at(-1)!.push(n);
  }
  return aus;
}
