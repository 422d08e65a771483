/**
 * DASH players as sessions on a vhost whose every play is guarded (JWT): the
 * HLS mechanism (hls-sessions.ts) for MPDs. An MPD request without a
 * `dash_ctx` id is redirected to one with a new id; the first request with a
 * new id is admitted like any play (policies' onPlay: the token, hooks,
 * security) and registered as a 'dash-play' client; its MPD lists the
 * segment templates with the id, and a segment is served only to a live
 * session of the stream whose directory holds it. A session that fetches no
 * MPD for its timeout ends (onStop, client removed); a kicked id answers 404.
 */
import type { IncomingMessage } from 'node:http';
import type { ServerContext } from '../../core/server-context.js';
import type { ClientSession, ClientType } from '../../core/client-registry.js';
import { clientIp, requestBearer, requestPageUrl } from '../../core/http-request.js';
import { randomId } from '../../log/logger.js';
import { MemoryBody } from '../segment/memory-body.js';

export class DashViewer implements ClientSession {
  readonly type: ClientType = 'dash-play';
  readonly createdAt = Date.now();
  lastSeen = Date.now();
  bytesSent = 0;
  closed = false;
  private ownFrom: MemoryBody | null = null;
  private own: MemoryBody | null = null;

  constructor(
    readonly id: string,
    readonly ip: string,
    readonly vhost: string,
    readonly app: string,
    readonly stream: string,
    readonly param: string,
    readonly tcUrl: string,
    readonly pageUrl: string,
    /** The media directory of the one stream this session was admitted for (absolute). */
    readonly mediaDir: string,
    public timeoutMs: number,
    private readonly onClose: (v: DashViewer, reason: string) => void,
    readonly bearer = '',
  ) {}

  /** The session's copy of the MPD `body` (its id on the segment templates), made once per MPD, not per request. */
  mpdFor(body: MemoryBody, render: (text: string) => string): MemoryBody {
    if (this.ownFrom !== body || !this.own) {
      // Private: it carries this session's id (a shared cache must not hand it to another player).
      this.own = new MemoryBody(Buffer.from(render(body.data.toString())), String(body.headers['Content-Type']), 'private, no-cache');
      this.ownFrom = body;
    }
    return this.own;
  }

  /** Whether a media file (absolute path) is one of this session's stream. */
  covers(abs: string): boolean {
    return abs.startsWith(`${this.mediaDir}/`);
  }

  bytesIn(): number {
    return 0;
  }

  bytesOut(): number {
    return this.bytesSent;
  }

  close(reason: string): void {
    this.onClose(this, reason);
  }
}

export type DashViewerLookup = { kind: 'ok'; viewer: DashViewer } | { kind: 'eof' } | { kind: 'denied'; reason: string; status: 401 | 403 };

export interface DashSessionRequest {
  vhost: string;
  app: string;
  stream: string;
  param: string;
  mediaDir: string;
  timeoutMs: number;
}

/** Kicked ids are remembered this long (ms) so that their player gets 404, not a new session. */
const KICKED_TTL_MS = 10 * 60_000;
const SWEEP_MS = 1000;

export class DashSessions {
  private readonly viewers = new Map<string, DashViewer>();
  private readonly kicked = new Map<string, number>();
  private readonly pending = new Map<string, Promise<DashViewerLookup>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: ServerContext) {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  newId(): string {
    return randomId(8);
  }

  /** The live session with this id, if any. */
  viewer(id: string): DashViewer | undefined {
    return this.viewers.get(id);
  }

  /** The session for an MPD request carrying `dash_ctx=id`: known → touched; new → admitted and registered; kicked → eof. */
  lookup(id: string, req: IncomingMessage, r: DashSessionRequest): DashViewerLookup | Promise<DashViewerLookup> {
    const known = this.viewers.get(id);
    if (known) {
      known.lastSeen = Date.now();
      known.timeoutMs = r.timeoutMs;
      return { kind: 'ok', viewer: known };
    }
    if (this.kicked.has(id)) return { kind: 'eof' };
    const waiting = this.pending.get(id);
    if (waiting) return waiting;
    const viewer = new DashViewer(id, clientIp(req), r.vhost, r.app, r.stream, r.param, `http://${req.headers.host ?? ''}/${r.app}`, requestPageUrl(req), r.mediaDir, r.timeoutMs, (v, reason) => this.end(v, reason, true), requestBearer(req));
    const accept = (): DashViewerLookup => {
      this.viewers.set(id, viewer);
      this.ctx.clients.add(viewer);
      this.ctx.log.info({ cid: id, ip: viewer.ip, stream: `${r.vhost}/${r.app}/${r.stream}` }, 'DASH play started');
      return { kind: 'ok', viewer };
    };
    let result: DashViewerLookup | null = null;
    const gated = this.ctx.admission.gate(
      'onPlay',
      viewer,
      () => (result = accept()),
      (d) => (result = { kind: 'denied', reason: d.reason, status: d.status }),
    );
    if (!gated) return result!;
    const p = gated.then(() => result!).finally(() => this.pending.delete(id));
    this.pending.set(id, p);
    return p;
  }

  stop(): void {
    clearInterval(this.timer);
    for (const v of [...this.viewers.values()]) this.end(v, 'server stopping', false);
  }

  private end(v: DashViewer, reason: string, kicked: boolean): void {
    if (v.closed) return;
    v.closed = true;
    this.viewers.delete(v.id);
    if (kicked) this.kicked.set(v.id, Date.now());
    this.ctx.clients.remove(v);
    this.ctx.admission.notify('onStop', v);
    this.ctx.log.info({ cid: v.id, reason }, 'DASH play stopped');
  }

  private sweep(): void {
    const now = Date.now();
    for (const v of [...this.viewers.values()]) if (now - v.lastSeen > v.timeoutMs) this.end(v, 'timeout', false);
    for (const [id, at] of this.kicked) if (now - at > KICKED_TTL_MS) this.kicked.delete(id);
  }
}
