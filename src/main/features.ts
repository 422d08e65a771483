/**
 * The composition root's list of features, in install order. To add a
 * protocol wing or an output, add its file and one entry here.
 */
import type { Feature } from '../core/feature.js';
import { opsFeature } from '../api/ops-feature.js';
import { rtcFeature } from '../servers/webrtc/webrtc-feature.js';
import { hlsFeature } from '../outputs/hls/hls-feature.js';
import { httpRemuxFeature } from '../servers/http-live/http-live-feature.js';
import { edgeFeature } from '../outputs/edge/edge-feature.js';

export const FEATURES: Feature[] = [edgeFeature, opsFeature, rtcFeature, hlsFeature, httpRemuxFeature];
