/**
 * When a live segment is cut (SRS-CONTRACTS §5.9), shared by TS HLS, LL-HLS
 * and DASH: on video, once the segment spans fragment × td_ratio, at the next
 * keyframe (or at once with wait_keyframe off); on audio, once it spans
 * aof_ratio × fragment (this bounds segments when the GOP is long); a pure
 * audio stream is cut at fragment × td_ratio.
 */

export interface SegmentRules {
  /** Seconds. */
  fragment: number;
  tdRatio: number;
  aofRatio: number;
  waitKeyframe: boolean;
}

/** Below this a segment is never cut (SRS's 200 ms floor). */
const MIN_SPAN_MS = 200;

export function shouldCut(r: SegmentRules, spanMs: number, kind: 'video' | 'audio', keyframe: boolean, pureAudio: boolean): boolean {
  if (spanMs < MIN_SPAN_MS) return false;
  const target = r.fragment * r.tdRatio * 1000;
  if (kind === 'video') return spanMs >= target && (!r.waitKeyframe || keyframe);
  if (pureAudio) return spanMs >= target;
  return spanMs >= r.aofRatio * r.fragment * 1000;
}
