/**
 * From an HLS segment notice to the on_hls callback's event: the publisher
 * of the stream (its client id and address) is looked up when the segment
 * is written, as SRS reports it.
 */
import type { ServerContext } from '../core/server-context.js';
import type { HlsSegmentNotice } from '../outputs/hls/hls-segment-notice.js';
import type { HlsHookEvent } from '../ops/hooks/http-hooks.js';

export function hlsHookEvent(ctx: ServerContext, n: HlsSegmentNotice): HlsHookEvent {
  const publisherId = ctx.sources.get(n.vhost, n.app, n.stream)?.publisher?.id ?? '';
  const publisher = publisherId ? ctx.clients.get(publisherId) : undefined;
  return {
    vhost: n.vhost,
    app: n.app,
    stream: n.stream,
    param: n.param,
    tcUrl: n.tcUrl,
    clientId: publisherId,
    ip: publisher?.ip ?? '',
    duration: n.duration,
    cwd: n.cwd,
    file: n.file,
    url: n.url,
    m3u8: n.m3u8,
    m3u8Url: n.m3u8Url,
    seqNo: n.seq,
  };
}
