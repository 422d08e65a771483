/**
 * The body SRS's heartbeat posts (SRS-CONTRACTS §3.5), so that SRS's proxy
 * and back-ends see a Sluice origin as one of theirs:
 * `{device_id, ip, server, service, pid [, rtmp, http, api, srt, rtc] [, summaries]}`.
 * With `summaries on`, `summaries` holds the load a proxy balances on: SRS's
 * `system.conn_srs` (connections) and Sluice's `sluice.streams`/`clients`,
 * a subset of /api/v1/summaries (the rest needs the stats sampler).
 */
import { networkInterfaces } from 'node:os';
import type { ServerConfig } from '../../config/server-config.js';
import type { Endpoint } from '../../config/endpoint.js';

export interface HeartbeatIdentity {
  serverId: string;
  serviceId: string;
  pid: number;
}

/** As written in the config: `port` or `host:port`. */
function endpointText(e: Endpoint): string {
  if (e.host === null) return String(e.port);
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** SRS's `ip`: env SRS_DEVICE_IP, else the address of interface number `stats.network` (IPv4 first, loopback last). */
export function deviceIp(network: number, env: NodeJS.ProcessEnv = process.env): string {
  if (env.SRS_DEVICE_IP) return env.SRS_DEVICE_IP;
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const rank = (a: { family: string; internal: boolean }): number => (a.internal ? 2 : 0) + (a.family === 'IPv4' ? 0 : 1);
  const ips = all.sort((a, b) => rank(a) - rank(b)).map((a) => a.address);
  return ips[network] ?? ips[0] ?? '127.0.0.1';
}

/** What the origin carries now, for `summaries on`. */
export interface HeartbeatLoad {
  connections: number;
  streams: number;
  clients: number;
}

export function heartbeatBody(config: ServerConfig, id: HeartbeatIdentity, ip: string, load: HeartbeatLoad | null = null): Record<string, unknown> {
  const hb = config.heartbeat;
  const body: Record<string, unknown> = { device_id: hb.deviceId, ip, server: id.serverId, service: id.serviceId, pid: id.pid };
  if (hb.summaries && load) {
    body.summaries = { ok: true, now_ms: Date.now(), system: { conn_srs: load.connections }, sluice: { streams: load.streams, clients: load.clients } };
  }
  if (!hb.ports) return body;
  body.rtmp = config.listen.map(endpointText);
  if (config.httpServer.enabled) body.http = [endpointText(config.httpServer.listen)];
  if (config.httpApi.enabled) body.api = [endpointText(config.httpApi.listen)];
  if (config.srtServer.enabled) body.srt = [`udp://0.0.0.0:${config.srtServer.listen}`];
  if (config.rtcServer.enabled) {
    const rtc = [`udp://0.0.0.0:${config.rtcServer.listen}`];
    if (config.rtcServer.tcp.enabled) rtc.push(`tcp://0.0.0.0:${config.rtcServer.tcp.listen}`);
    body.rtc = rtc;
  }
  return body;
}

/** SRS posts to the URL's path only: the query is dropped. */
export function heartbeatTarget(url: string): URL | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    u.search = '';
    u.hash = '';
    return u;
  } catch {
    return null;
  }
}
