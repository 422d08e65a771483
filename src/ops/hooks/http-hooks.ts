/**
 * SRS's HTTP callbacks (`vhost.http_hooks`) as a SessionPolicy: on_connect,
 * on_publish and on_play decide admission (every URL in order, the first
 * refusal denies, with a log line); on_close, on_unpublish and on_stop are
 * fire-and-forget. The vhost's settings are read per call, so a reload
 * applies to the next session. Calls are plain async requests with a time
 * limit: a pending callback holds only its own session.
 *
 * HLS reports through `onHls()` (async, after a segment is kept), DVR
 * through `onDvr()` (async, after a file is closed); the composition root
 * wires both. Stream ids in the bodies come from the
 * statistics it is handed, so the API and the hooks name a stream alike.
 */
import type { ServerContext } from '../../core/server-context.js';
import type { ClientSession, StreamRequest } from '../../core/client-registry.js';
import { AccessDenied, type SessionPolicy } from '../../core/session-policy.js';
import type { VhostConfig } from '../../config/server-config.js';
import type { Logger } from '../../log/logger.js';
import { streamUrl } from '../../protocol/stream-url.js';
import type { ServerStats } from '../stats/server-stats.js';
import { hookRequest } from './hook-client.js';
import { judgeHookResponse } from './hook-response.js';
import { hookBody, hlsNotifyUrl, type DvrHookData, type HlsHookData, type HookAction, type HookSubject } from './hook-bodies.js';

/** SRS's per-call limit (connect/send/receive). */
const HOOK_TIMEOUT_MS = 30_000;
/** on_hls_notify: SRS's limit and how much of the answer it reads (hls_nb_notify). */
const HLS_NOTIFY_TIMEOUT_MS = 10_000;
const HLS_NOTIFY_MAX_BYTES = 64;

/** What the exporter learns about each call. */
export type HookObserver = (action: string, seconds: number, ok: boolean) => void;

/** The publisher behind an output's event: its request and, when known, its client id and address (else ''). */
interface PublisherOf extends Omit<StreamRequest, 'pageUrl'> {
  clientId: string;
  ip: string;
}

/** A segment the HLS muxer has just closed (for on_hls / on_hls_notify). */
export interface HlsHookEvent extends HlsHookData, PublisherOf {}

/** A recording file the DVR has just closed (for on_dvr). */
export interface DvrHookEvent extends DvrHookData, PublisherOf {}

export interface HttpHooksOptions {
  timeoutMs?: number;
  observer?: HookObserver;
}

const BLOCKING = { onConnect: 'on_connect', onPublish: 'on_publish', onPlay: 'on_play' } as const;

/** Which `http_hooks` directive lists the URLs of each action. */
const HOOK_URLS = {
  on_connect: 'onConnect',
  on_close: 'onClose',
  on_publish: 'onPublish',
  on_unpublish: 'onUnpublish',
  on_play: 'onPlay',
  on_stop: 'onStop',
  on_dvr: 'onDvr',
  on_hls: 'onHls',
} as const satisfies Record<HookAction, keyof VhostConfig['httpHooks']>;

export class HttpHooks implements SessionPolicy {
  readonly name = 'http_hooks';
  private readonly log: Logger;
  timeoutMs: number;
  observer: HookObserver | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly stats: ServerStats,
    options: HttpHooksOptions = {},
  ) {
    this.log = ctx.log.child({ feature: 'http_hooks' });
    this.timeoutMs = options.timeoutMs ?? HOOK_TIMEOUT_MS;
    this.observer = options.observer;
  }

  onConnect(s: ClientSession): Promise<void> | void {
    return this.blocking(s, 'onConnect');
  }

  onPublish(s: ClientSession): Promise<void> | void {
    return this.blocking(s, 'onPublish');
  }

  onPlay(s: ClientSession): Promise<void> | void {
    return this.blocking(s, 'onPlay');
  }

  onUnpublish(s: ClientSession): void {
    this.background(s, 'on_unpublish');
  }

  onStop(s: ClientSession): void {
    this.background(s, 'on_stop');
  }

  onClose(s: ClientSession): void {
    this.background(s, 'on_close');
  }

  /** HLS: call after each segment is kept (on_hls, then on_hls_notify). Never throws, never blocks. */
  onHls(ev: HlsHookEvent): void {
    const v = this.hooksOf(ev.vhost);
    if (!v) return;
    const subject = this.eventSubject(ev);
    if (v.httpHooks.onHls.length > 0) {
      const body = JSON.stringify(hookBody(this.ctx.identity, 'on_hls', subject, ev));
      void this.callAll('on_hls', v.httpHooks.onHls, body, subject).catch(() => undefined);
    }
    const id = this.ctx.identity;
    for (const template of v.httpHooks.onHlsNotify) {
      const url = hlsNotifyUrl(template, { serverId: id.serverId, serviceId: id.serviceId, app: ev.app, stream: ev.stream, tsUrl: ev.url, param: ev.param });
      const started = performance.now();
      hookRequest(url, { method: 'GET', timeoutMs: HLS_NOTIFY_TIMEOUT_MS, maxBodyBytes: HLS_NOTIFY_MAX_BYTES, verifyTls: v.httpHooks.tlsVerify }).then(
        () => this.observer?.('on_hls_notify', (performance.now() - started) / 1000, true),
        (err: Error) => {
          this.observer?.('on_hls_notify', (performance.now() - started) / 1000, false);
          this.log.warn({ hook: 'on_hls_notify', url, err: err.message }, 'HTTP callback failed (ignored)');
        },
      );
    }
  }

  /**
   * DVR: call after each recorded file is closed and renamed. Async as in
   * SRS: a refusal or failure is logged (by callAll) and the file is kept.
   */
  onDvr(ev: DvrHookEvent): void {
    const v = this.hooksOf(ev.vhost);
    if (!v || v.httpHooks.onDvr.length === 0) return;
    const subject = this.eventSubject(ev);
    const body = JSON.stringify(hookBody(this.ctx.identity, 'on_dvr', subject, { cwd: ev.cwd, file: ev.file }));
    void this.callAll('on_dvr', v.httpHooks.onDvr, body, subject).catch(() => undefined);
  }

  private eventSubject(ev: HlsHookEvent | DvrHookEvent): HookSubject {
    const st = this.stats.streams.get(`${ev.vhost}/${ev.app}/${ev.stream}`);
    return { clientId: ev.clientId, ip: ev.ip, vhost: ev.vhost, app: ev.app, stream: ev.stream, param: ev.param, tcUrl: ev.tcUrl, pageUrl: '', streamId: st?.id };
  }

  private hooksOf(vhost: string): VhostConfig | null {
    const v = this.ctx.vhost(vhost);
    return v && v.httpHooks.enabled ? v : null;
  }

  private urlsFor(v: VhostConfig, action: HookAction): string[] {
    return v.httpHooks[HOOK_URLS[action]];
  }

  private subject(s: ClientSession, action: HookAction): HookSubject {
    const stats = this.stats;
    let streamId: string | undefined;
    if (s.stream && action !== 'on_connect' && action !== 'on_close') {
      streamId = stats.streamStat(s.vhost, s.app, s.stream, s.tcUrl).id;
    }
    // HTTP players: SRS reports a synthesized RTMP tcUrl (contract §3.2).
    const tcUrl = s.type === 'flv-play' ? `rtmp://${s.vhost}/${s.app}` : s.tcUrl;
    return {
      clientId: s.id,
      ip: s.ip,
      vhost: s.vhost,
      app: s.app,
      stream: s.stream,
      param: s.param,
      tcUrl,
      pageUrl: s.pageUrl,
      streamId,
      sendBytes: action === 'on_close' ? s.bytesOut() : undefined,
      recvBytes: action === 'on_close' ? s.bytesIn() : undefined,
    };
  }

  private blocking(s: ClientSession, point: keyof typeof BLOCKING): Promise<void> | void {
    const v = this.hooksOf(s.vhost);
    if (!v) return;
    const action = BLOCKING[point];
    const urls = this.urlsFor(v, action);
    if (urls.length === 0) return;
    const subject = this.subject(s, action);
    const body = JSON.stringify(hookBody(this.ctx.identity, action, subject));
    return this.callAll(action, urls, body, subject);
  }

  private background(s: ClientSession, action: HookAction): void {
    const v = this.hooksOf(s.vhost);
    if (!v) return;
    const urls = this.urlsFor(v, action);
    if (urls.length === 0) return;
    const subject = this.subject(s, action);
    const body = JSON.stringify(hookBody(this.ctx.identity, action, subject));
    void this.callAll(action, urls, body, subject).catch(() => undefined);
  }

  /** Calls each URL in order; rejects with AccessDenied at the first refusal (logged). */
  private async callAll(action: string, urls: readonly string[], body: string, s: HookSubject): Promise<void> {
    const verifyTls = this.ctx.vhost(s.vhost)?.httpHooks.tlsVerify ?? true;
    for (const url of urls) {
      const started = performance.now();
      let code = 0;
      let reason = '';
      try {
        const reply = await hookRequest(url, { body, timeoutMs: this.timeoutMs, verifyTls });
        const verdict = judgeHookResponse(reply.status, reply.body);
        if (!verdict.ok) {
          code = verdict.code;
          reason = verdict.reason;
        }
      } catch (err) {
        code = 4005;
        reason = (err as Error).message;
      }
      const seconds = (performance.now() - started) / 1000;
      this.observer?.(action, seconds, code === 0);
      if (code !== 0) {
        this.log.warn(
          { hook: action, url, cid: s.clientId, ip: s.ip, stream: streamUrl(s.vhost, s.app, s.stream), code, reason, ms: Math.round(seconds * 1000) },
          'HTTP callback refused or failed',
        );
        throw new AccessDenied(`${action} refused by ${url}: ${reason}`, code);
      }
      this.log.debug({ hook: action, url, cid: s.clientId, ms: Math.round(seconds * 1000) }, 'HTTP callback allowed');
    }
  }
}
