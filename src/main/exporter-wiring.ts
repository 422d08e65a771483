/**
 * The exporter's registry with every figure the composition root adds to it
 * (hooks, forwards, supervised children, recordings). features.ts imports
 * this file only when `exporter` is on: prom-client and the OpenTelemetry
 * API it loads (~100 files, 0.6 MB of heap once the rest is loaded) are left
 * out of a server without an exporter.
 */
import type { ServerContext } from '../core/server-context.js';
import type { ServerStats } from '../ops/stats/server-stats.js';
import type { HttpHooks } from '../ops/hooks/http-hooks.js';
import type { ProcessRegistry } from '../ffmpeg/child-supervisor.js';
import type { ForwardService } from '../outputs/forward/forward-feature.js';
import type { DvrService } from '../outputs/dvr/dvr-feature.js';
import { ServerMetrics } from '../ops/exporter/metrics.js';
import { registerForwardMetrics } from './forward-metrics.js';
import { registerProcessMetrics } from './process-metrics.js';

export interface MeasuredParts {
  hooks: HttpHooks;
  forwards: ForwardService;
  processes: ProcessRegistry;
  dvr: DvrService;
}

export function wireMetrics(ctx: ServerContext, stats: ServerStats, parts: MeasuredParts): ServerMetrics {
  const metrics = new ServerMetrics(ctx, stats);
  parts.hooks.observer = (action, seconds, ok) => metrics.observeHook(action, seconds, ok);
  registerForwardMetrics(metrics.registry, parts.forwards);
  registerProcessMetrics(metrics.registry, parts.processes);
  metrics.observeRecordings(() => parts.dvr.totals());
  return metrics;
}
