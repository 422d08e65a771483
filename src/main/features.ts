/**
 * The composition root's wiring: which features a server runs, in which
 * order, and which part is handed which service. This is the only file that
 * knows every feature. Order matters twice: policies are asked in install
 * order (statistics, security, JWT, hooks, then WebRTC's busy check), and so are
 * the HTTP routes (console and API, WebRTC, HLS, DASH, static files, live
 * streams).
 */
import type { Feature } from '../core/feature.js';
import type { ServerContext } from '../core/server-context.js';
import { ServerStats } from '../ops/stats/server-stats.js';
import { statsFeature } from '../ops/stats/stats-feature.js';
import { securityFeature } from '../ops/security/security-feature.js';
import { jwtFeature } from '../ops/auth/jwt-feature.js';
import { HttpHooks } from '../ops/hooks/http-hooks.js';
import { hooksFeature } from '../ops/hooks/hooks-feature.js';
import { ApiService } from '../api/api-service.js';
import { rtcFeature } from '../servers/webrtc/webrtc-feature.js';
import { RtmpServer } from '../servers/rtmp/rtmp-server.js';
import { httpLiveFeature } from '../servers/http-live/http-live-feature.js';
import { httpStaticFeature } from '../servers/http-static/http-static-feature.js';
import { hlsFeature } from '../outputs/hls/hls-feature.js';
import { dashFeature } from '../outputs/dash/dash-feature.js';
import { edgeFeature } from '../outputs/edge/edge-feature.js';
import { execFeature } from '../outputs/exec/exec-feature.js';
import { ProcessRegistry } from '../ffmpeg/child-supervisor.js';
import { ForwardService, forwardFeature } from '../outputs/forward/forward-feature.js';
import { hlsHookEvent } from './hls-hook-bridge.js';
import { forwardBackendCall } from './forward-backend-bridge.js';
import { DvrService, dvrFeature } from '../outputs/dvr/dvr-feature.js';
import { dvrHookEvent } from './dvr-hook-bridge.js';
import { ingestFeature } from '../inputs/ingest/ingest-feature.js';
import { transcodeFeature } from '../outputs/transcode/transcode-feature.js';
import { clusterFeature } from '../ops/cluster/cluster-feature.js';
import { heartbeatFeature } from '../ops/heartbeat/heartbeat-feature.js';
import { srtFeature } from '../servers/srt/srt-feature.js';
import { casterFeature } from '../servers/caster/caster-feature.js';
import { acmeFeature } from '../ops/acme/acme-feature.js';

export interface Composition {
  features: Feature[];
  /** Held by the server for its ports and for closing listeners first on a graceful stop. */
  rtmp: RtmpServer;
  api: ApiService;
}

/** Async: a part whose libraries are large (the exporter's) is imported only when the config turns it on. */
export async function compose(ctx: ServerContext): Promise<Composition> {
  const stats = new ServerStats(ctx);
  const hooks = new HttpHooks(ctx, stats);
  const rtmp = new RtmpServer(ctx);
  // Every supervised child (exec, ingest, transcode, WebRTC's audio pipes): listed by the API, all stopped and reaped at server stop.
  const processes = new ProcessRegistry();
  // SRS's [port]: the first RTMP listener (its real port when the config says 0).
  const rtmpPort = (): number => rtmp.ports()[0] ?? ctx.config.listen[0]?.port ?? 1935;
  const forwards = new ForwardService({ backend: forwardBackendCall(hooks) });
  const dvr = new DvrService({ onFile: (n) => hooks.onDvr(dvrHookEvent(n)) });
  const metrics = ctx.config.exporter.enabled ? (await import('./exporter-wiring.js')).wireMetrics(ctx, stats, { hooks, forwards, processes, dvr }) : null;
  const rtc = rtcFeature(processes);
  const api = new ApiService(ctx, { stats, metrics, processes, forwards, dvr, rtc });
  const features: Feature[] = [
    // First among the HTTP routes: the CA's HTTP-01 requests must not reach static files or the API.
    acmeFeature,
    edgeFeature,
    statsFeature(stats),
    securityFeature,
    // Before the hooks: a bad token costs no callback.
    jwtFeature,
    hooksFeature(hooks),
    { name: 'api', install: () => api.install() },
    rtc,
    hlsFeature({ onSegment: (n) => hooks.onHls(hlsHookEvent(ctx, n)) }),
    dashFeature,
    dvrFeature(dvr),
    execFeature(processes),
    transcodeFeature({ processes, rtmpPort }),
    { name: 'processes', install: () => ({ stop: () => processes.stopAll() }) },
    forwardFeature(forwards),
    httpStaticFeature,
    httpLiveFeature,
    // After hooks (on_play before the redirect, as SRS) and after HLS/static files (a playlist here is served here).
    clusterFeature(),
    heartbeatFeature,
    { name: 'rtmp', install: () => rtmp.install() },
    srtFeature(),
    casterFeature(),
    // After rtmp: its FFmpeg children publish to the port that is listening now.
    ingestFeature({ processes, rtmpPort }),
  ];
  return { features, rtmp, api };
}
