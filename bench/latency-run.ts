/**
 * The latency probe: one publisher that stamps every H.264 frame with the
 * wall-clock time it is written (SEI user data), and one player (RTMP or
 * HTTP-FLV) that reads the stamps; the difference is the delay the server
 * adds (plus loopback and this process's own event loop delay, reported).
 */
import type { BenchPlayer } from './bench-player.js';
import { FlvBenchPlayer } from './flv-player.js';
import { RtmpBenchPlayer } from './rtmp-player.js';
import { BenchPublisher } from './rtmp-publisher.js';
import { LoadMeter, sleep } from './run-clock.js';
import { fmt, median, percentile } from './stats.js';
import type { Workload } from './workload.js';

export interface LatencyRunOptions {
  publishUrl: string;
  /** rtmp:// or http:// URL of the same stream. */
  playUrl: string;
  duration: number;
  interval: number;
  /** Seconds at the start whose samples are left out of the final figures. */
  skip: number;
  workload: Workload;
  log: (line: string) => void;
}

export interface LatencyRunResult {
  playUrl: string;
  samples: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  probeLoopDelayP99Ms: number;
  error: string | null;
}

export async function runLatency(o: LatencyRunOptions): Promise<LatencyRunResult> {
  const meter = new LoadMeter([]);
  const start = performance.now();
  const deadline = start + o.duration * 1000;
  const pub = new BenchPublisher(o.publishUrl, o.workload, true);
  pub.open();
  // A fine tick: stamps are taken at write time, the tick only bounds pacing jitter.
  const tick = setInterval(() => pub.tick(performance.now()), 5);
  while (pub.state === 'connecting' && performance.now() < start + 10_000) await sleep(20);
  let player: BenchPlayer | null = null;
  const all: number[] = [];
  let windowSamples: number[] = [];
  if (pub.state === 'publishing') {
    await sleep(500);
    player = o.playUrl.startsWith('rtmp:') ? new RtmpBenchPlayer(o.playUrl) : new FlvBenchPlayer(o.playUrl);
    player.probe = true;
    player.onStamp = (ms) => {
      windowSamples.push(ms);
      if (performance.now() - start >= o.skip * 1000) all.push(ms);
    };
    player.open();
  }
  const timer = setInterval(() => {
    o.log(
      `[${((performance.now() - start) / 1000).toFixed(0).padStart(3)}s] latency over ${windowSamples.length} frames: median ${fmt(median(windowSamples), 1)} ms, p99 ${fmt(percentile(windowSamples, 99), 1)} ms`,
    );
    windowSamples = [];
  }, o.interval * 1000);
  meter.loopDelayP99();
  while (performance.now() < deadline && pub.state !== 'closed') await sleep(50);
  clearInterval(timer);
  clearInterval(tick);
  const result: LatencyRunResult = {
    playUrl: o.playUrl,
    samples: all.length,
    medianMs: median(all),
    p99Ms: percentile(all, 99),
    maxMs: all.length ? Math.max(...all) : NaN,
    probeLoopDelayP99Ms: meter.loopDelayP99(),
    error: pub.error ?? player?.error ?? (pub.state !== 'publishing' ? 'publisher did not start' : null),
  };
  player?.close();
  pub.close();
  meter.stop();
  return result;
}

export function describeLatency(r: LatencyRunResult): string {
  return `latency ${r.playUrl}: ${r.samples} stamped frames, server-added delay median ${fmt(r.medianMs, 1)} ms, p99 ${fmt(r.p99Ms, 1)} ms, max ${fmt(r.maxMs, 1)} ms (probe event loop delay p99 ${fmt(r.probeLoopDelayP99Ms, 1)} ms)${r.error ? `; error: ${r.error}` : ''}`;
}
