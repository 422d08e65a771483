/**
 * SRT's 31-bit sequence numbers and 32-bit microsecond timestamps, which
 * wrap: comparisons go through the signed distance, never `<` on raw values.
 */
export const SEQ_MAX = 0x7fffffff;
const SEQ_HALF = 0x40000000;

/** b − a on the 31-bit circle, in [−2^30, 2^30). */
export function seqDiff(a: number, b: number): number {
  let d = (b - a) & SEQ_MAX;
  if (d >= SEQ_HALF) d -= SEQ_MAX + 1;
  return d;
}

export function seqInc(a: number, n = 1): number {
  return (a + n) & SEQ_MAX;
}

/** µs timestamps of the wire wrap at 2^32 (about 71 minutes). */
export function tsWrap(us: number): number {
  return Math.floor(us) >>> 0;
}
