/**
 * A Sluice origin behind `sluice proxy`, as the proxy tests start it: it
 * posts heartbeats with its ports to the proxy's system API, and serves
 * RTMP and HTTP-FLV (optionally HLS and SRT). And what its players check.
 */
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from './server-process.js';
import type { RunningProxy } from './proxy-process.js';
import type { ProbeResult } from './ffmpeg.js';

export interface ProxyOriginOptions {
  /** `srt_server` and `srt` in the vhost. */
  srt?: boolean;
  /** HLS into ./html, 1 s fragments. */
  hls?: boolean;
  /** The heartbeat's `summaries` (load for the proxy's balancing); left out when undefined. */
  summaries?: boolean;
  /** `play { gop_cache on; }`. */
  gopCache?: boolean;
}

export function proxyOriginConfig(id: string, registerPort: number, o: ProxyOriginOptions = {}): string {
  const summaries = o.summaries === undefined ? '' : ` summaries ${o.summaries ? 'on' : 'off'};`;
  return `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
${o.srt ? 'srt_server { enabled on; listen {{SRT}}; }' : ''}
heartbeat { enabled on; interval 1; url http://127.0.0.1:${registerPort}/api/v1/srs/register; device_id ${id}; ports on;${summaries} }
vhost __defaultVhost__ {
  ${o.srt ? 'srt { enabled on; }' : ''}
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  ${o.hls ? 'hls { enabled on; hls_path ./html; hls_fragment 1; hls_window 6; }' : ''}
  ${o.gopCache ? 'play { gop_cache on; }' : ''}
}
`;
}

/** An origin `id` registering with `proxy`, announcing 127.0.0.1. */
export function startProxyOrigin(id: string, proxy: RunningProxy, o: ProxyOriginOptions = {}): Promise<RunningServer> {
  return startServer({ config: proxyOriginConfig(id, proxy.systemPort, o), extraEnv: { SRS_DEVICE_IP: '127.0.0.1' } });
}

/** The publishers' 320x240 H.264 + AAC, with at least `minFrames` video packets. */
export function assertVideo(r: ProbeResult, what: string, minFrames: number): void {
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264', `${what}: video codec`);
  assert.equal(v?.width, 320, `${what}: width`);
  assert.equal(v?.height, 240, `${what}: height`);
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac', `${what}: audio codec`);
  const frames = r.packets.filter((p) => p.stream_index === r.streams.indexOf(v!)).length;
  assert.ok(frames >= minFrames, `${what}: ${frames} video packets`);
}
