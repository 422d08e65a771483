/**
 * WebRTC as a Feature: the RTC server (UDP/TCP ports), its signalling
 * routes on the API server, and the busy policy that keeps an RTMP publisher
 * off a stream a WHIP publisher holds.
 */
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import { RtcServer } from './rtc-server.js';
import { rtcApiRoute } from './rtc-api.js';
import type { ProcessRegistry } from '../../ffmpeg/child-supervisor.js';
import { NO_RELAY, type RtcRelayCounts } from './rtc-server.js';

/** The WebRTC feature, with what the API shows of it. */
export interface RtcFeature extends Feature {
  /** The UDP gateway's relay: datagrams passed to sibling workers and got from them (--workers), and the native relay's counts; zeros before install. */
  relayed(): RtcRelayCounts;
}

/** `processes`: the supervisor's registry, where the AAC⇄Opus FFmpeg pipes run. */
export const rtcFeature = (processes: ProcessRegistry): RtcFeature => {
  let current: RtcServer | null = null;
  return {
    name: 'webrtc',
    relayed: () => current?.relayed ?? NO_RELAY,
    install: (ctx) => install(ctx, processes, (r) => (current = r)),
  };
};

/** `use` is told the server that is current (a reload may replace it). */
async function install(ctx: ServerContext, processes: ProcessRegistry, use: (rtc: RtcServer) => void): Promise<FeatureHandle> {
  let rtc = new RtcServer(ctx, processes);
  use(rtc);
  await rtc.start();
  // Replies carry the server's one identity, as /api/v1 and the hooks do.
  const identity = { server: ctx.identity.serverId, service: ctx.identity.serviceId };
  ctx.routes.api.push(rtcApiRoute(ctx, () => rtc, () => identity));
  ctx.admission.use(rtc.busyPolicy);
  let listened = { enabled: ctx.config.rtcServer.enabled, listen: ctx.config.rtcServer.listen, tcp: ctx.config.rtcServer.tcp.listen };
  return {
    reload(): void {
      const c = ctx.config.rtcServer;
      if (c.enabled === listened.enabled && c.listen === listened.listen && c.tcp.listen === listened.tcp) return;
      // rtc_server changed: re-listen (SRS applies rtc_server changes on reload); sessions of the old port end.
      const old = rtc;
      rtc = new RtcServer(ctx, processes);
      use(rtc);
      ctx.admission.replace(old.busyPolicy, rtc.busyPolicy);
      listened = { enabled: c.enabled, listen: c.listen, tcp: c.tcp.listen };
      void old.stop().then(() => rtc.start()).catch((err: unknown) => ctx.log.error({ err: (err as Error).message }, 'WebRTC re-listen failed'));
    },
    async stop(): Promise<void> {
      await rtc.stop();
    },
  };
}
