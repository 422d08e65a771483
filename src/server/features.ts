/**
 * The features that plug into a server (HLS, WebRTC, hooks, exporter, ...).
 * Each is installed once when the server starts: it may add session policies,
 * source observers, HTTP routes, listeners of its own, and a stop function.
 * To add a feature, append it to FEATURES — nothing else needs to change.
 */
import type { ServerContext } from './server-context.js';
import { opsFeature } from '../api/ops-feature.js';
import { rtcFeature } from '../rtc/rtc-feature.js';
import { hlsFeature } from '../app/hls/hls-feature.js';
import { httpRemuxFeature } from '../app/http-remux/http-remux-feature.js';

export interface FeatureHandle {
  /** Called on reload with the new config already in ctx.config. */
  reload?(): void;
  /** Called on stop; release listeners, timers, child processes. */
  stop?(): Promise<void> | void;
}

export interface Feature {
  readonly name: string;
  install(ctx: ServerContext): Promise<FeatureHandle> | FeatureHandle;
}

import { edgeFeature } from '../app/edge/edge-feature.js';
// Features register below (one import and one list entry each).
export const FEATURES: Feature[] = [
  // (features are appended here)
  edgeFeature,
  opsFeature,
  rtcFeature,
  hlsFeature,
  httpRemuxFeature,
];
