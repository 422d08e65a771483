/**
 * The JSON bodies of SRS's callbacks (contract §3.2), keys in SRS's order.
 * Pure functions of a session snapshot, so every protocol gets the same body.
 */
import { streamUrl } from '../../protocol/stream-url.js';
import type { StreamRequest } from '../../core/client-registry.js';

export type HookAction = 'on_connect' | 'on_close' | 'on_publish' | 'on_unpublish' | 'on_play' | 'on_stop' | 'on_dvr' | 'on_hls';

export interface HookIdentity {
  serverId: string;
  serviceId: string;
}

/** What a hook body needs to know about a session. */
export interface HookSubject extends StreamRequest {
  clientId: string;
  ip: string;
  /** The stats id of the stream, when the statistics know it. */
  streamId?: string;
  sendBytes?: number;
  recvBytes?: number;
}

export interface DvrHookData {
  cwd: string;
  file: string;
}

export interface HlsHookData {
  /** Segment duration in seconds. */
  duration: number;
  cwd: string;
  file: string;
  url: string;
  m3u8: string;
  m3u8Url: string;
  seqNo: number;
}

/** A float that the API/hook JSON writer prints with two decimals, as SRS does. */
export class Fixed2 {
  constructor(readonly value: number) {}
  toJSON(): number {
    return Math.round(this.value * 100) / 100;
  }
}

export function hookBody(
  id: HookIdentity,
  action: HookAction,
  s: HookSubject,
  extra?: DvrHookData | HlsHookData,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    server_id: id.serverId,
    service_id: id.serviceId,
    action,
    client_id: s.clientId,
    ip: s.ip,
    vhost: s.vhost,
    app: s.app,
  };
  const url = streamUrl(s.vhost, s.app, s.stream);
  const tail = (): void => {
    body.stream_url = url;
    if (s.streamId) body.stream_id = s.streamId;
  };
  switch (action) {
    case 'on_connect':
      Object.assign(body, { stream: s.stream, param: s.param, tcUrl: s.tcUrl, pageUrl: s.pageUrl });
      break;
    case 'on_close':
      Object.assign(body, { send_bytes: s.sendBytes ?? 0, recv_bytes: s.recvBytes ?? 0 });
      break;
    case 'on_publish':
    case 'on_unpublish':
    case 'on_stop':
      Object.assign(body, { tcUrl: s.tcUrl, stream: s.stream, param: s.param });
      tail();
      break;
    case 'on_play':
      Object.assign(body, { stream: s.stream, tcUrl: s.tcUrl, param: s.param, pageUrl: s.pageUrl });
      tail();
      break;
    case 'on_dvr': {
      const d = extra as DvrHookData;
      Object.assign(body, { tcUrl: s.tcUrl, stream: s.stream, param: s.param, cwd: d.cwd, file: d.file });
      tail();
      break;
    }
    case 'on_hls': {
      const h = extra as HlsHookData;
      Object.assign(body, {
        tcUrl: s.tcUrl,
        stream: s.stream,
        param: s.param,
        duration: new Fixed2(h.duration),
        cwd: h.cwd,
        file: h.file,
        url: h.url,
        m3u8: h.m3u8,
        m3u8_url: h.m3u8Url,
        seq_no: h.seqNo,
      });
      tail();
      break;
    }
  }
  return body;
}

/** on_hls_notify URL: SRS's variables substituted; an absolute segment URL replaces the template. */
export function hlsNotifyUrl(template: string, v: { serverId: string; serviceId: string; app: string; stream: string; tsUrl: string; param: string }): string {
  if (/^https?:\/\//.test(v.tsUrl)) return v.tsUrl;
  return template
    .replaceAll('[server_id]', v.serverId)
    .replaceAll('[service_id]', v.serviceId)
    .replaceAll('[app]', v.app)
    .replaceAll('[stream]', v.stream)
    .replaceAll('[ts_url]', v.tsUrl)
    .replaceAll('[param]', v.param);
}
