/**
 * `heartbeat { enabled on; interval 9; url ...; device_id ...; ports on; }`:
 * every `interval` seconds a POST of SRS's body to the URL (path only); the
 * answer is ignored, a failure is one debug line (the next beat retries).
 * A reload applies the new settings at the next beat.
 */
import http from 'node:http';
import https from 'node:https';
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import { deviceIp, heartbeatBody, heartbeatTarget } from './heartbeat-body.js';

const POST_TIMEOUT_MS = 5000;

function post(target: URL, body: string, onError: (err: Error) => void): void {
  const client = target.protocol === 'https:' ? https : http;
  const req = client.request(target, { method: 'POST', timeout: POST_TIMEOUT_MS, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => res.resume());
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', onError);
  req.end(body);
}

export const heartbeatFeature: Feature = {
  name: 'heartbeat',
  install(ctx: ServerContext): FeatureHandle {
    let timer: NodeJS.Timeout | null = null;
    const log = ctx.log.child({ cid: 'heartbeat' });
    const beat = (): void => {
      const cfg = ctx.config;
      const target = heartbeatTarget(cfg.heartbeat.url);
      if (!target) return void log.warn({ url: cfg.heartbeat.url }, 'heartbeat url is not an http(s) URL');
      const id = { serverId: ctx.identity.serverId, serviceId: ctx.identity.serviceId, pid: process.pid };
      const load = { connections: ctx.limit.current, streams: ctx.sources.size, clients: ctx.clients.size };
      const body = JSON.stringify(heartbeatBody(cfg, id, deviceIp(cfg.stats.network), load));
      post(target, body, (err) => log.debug({ url: target.href, err: err.message }, 'heartbeat failed'));
    };
    const schedule = (): void => {
      if (timer) clearInterval(timer);
      timer = null;
      const hb = ctx.config.heartbeat;
      if (!hb.enabled) return;
      timer = setInterval(beat, hb.interval * 1000);
      timer.unref();
      log.info({ url: hb.url, interval: hb.interval }, 'heartbeat on');
    };
    schedule();
    return {
      reload: schedule,
      stop() {
        if (timer) clearInterval(timer);
        timer = null;
      },
    };
  },
};
