/**
 * HLS viewers as sessions (SRS's `hls_ctx`): a playlist request without a
 * session id gets a one-variant master playlist that adds `hls_ctx=<id>`; the
 * first request with a new id is admitted like any play (policies' onPlay:
 * hooks, security) and registered as an 'hls-play' client; a session that
 * fetches no playlist for 2 × hls_window ends (onStop, client removed). A
 * kicked session's id answers 404 from then on.
 *
 * When a policy guards every play of the vhost (JWT), a session also keeps
 * the media paths its playlists listed (bounded): a segment is served only to
 * the session that was handed it, so a token on the playlist covers its
 * segments and nothing else.
 */
import type { IncomingMessage } from 'node:http';
import type { ServerContext } from '../../core/server-context.js';
import type { ClientSession, ClientType } from '../../core/client-registry.js';
import { clientIp, requestBearer, requestPageUrl } from '../../core/http-request.js';
import { randomId } from '../../log/logger.js';
import { MemoryBody } from '../segment/memory-body.js';

export class HlsViewer implements ClientSession {
  readonly type: ClientType = 'hls-play';
  readonly createdAt = Date.now();
  lastSeen = Date.now();
  bytesSent = 0;
  closed = false;
  /** Media paths handed to this session in its playlists, oldest first (guarded vhosts only). */
  private readonly media = new Set<string>();

  constructor(
    readonly id: string,
    readonly ip: string,
    public vhost: string,
    public app: string,
    public stream: string,
    public param: string,
    public tcUrl: string,
    public pageUrl: string,
    /** Session lifetime without playlist requests (ms). */
    public timeoutMs: number,
    private readonly onClose: (v: HlsViewer, reason: string) => void,
    readonly bearer = '',
  ) {}

  /** hls_ts_ctx: this session's copy of the playlist last asked for, and the playlist it was made from. */
  private ownFrom: MemoryBody | null = null;
  private own: MemoryBody | null = null;

  /**
   * The session's copy of `body` (made by `render` once per playlist, not per
   * request). `privateCopy` (a JWT vhost): the copy carries the session that
   * holds a token's admission, so no shared cache may keep it.
   */
  playlistFor(body: MemoryBody, render: () => string, privateCopy = false): MemoryBody {
    if (this.ownFrom !== body || !this.own) {
      const cache = String(body.headers['Cache-Control']);
      this.own = new MemoryBody(Buffer.from(render()), String(body.headers['Content-Type']), privateCopy ? cache.replace(/^public\b/, 'private') : cache);
      this.ownFrom = body;
    }
    return this.own;
  }

  /** Remembers the media paths of a playlist served to this session (the oldest go past the bound). */
  handed(paths: readonly string[]): void {
    for (const p of paths) {
      this.media.delete(p);
      this.media.add(p);
    }
    while (this.media.size > MAX_HANDED) this.media.delete(this.media.values().next().value!);
  }

  wasHanded(path: string): boolean {
    return this.media.has(path);
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

export type ViewerLookup =
  | { kind: 'ok'; viewer: HlsViewer }
  | { kind: 'eof' }
  | { kind: 'denied'; reason: string; status: 401 | 403 };

/** Media paths a session remembers: several windows of segments. */
const MAX_HANDED = 512;

/** Kicked ids are remembered this long (ms) so that their player gets 404, not a new session. */
const KICKED_TTL_MS = 10 * 60_000;
const SWEEP_MS = 1000;

export class HlsSessions {
  private readonly viewers = new Map<string, HlsViewer>();
  private readonly kicked = new Map<string, number>();
  private readonly pendingAdmissions = new Map<string, Promise<ViewerLookup>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: ServerContext) {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  get size(): number {
    return this.viewers.size;
  }

  /** A new session id for the master playlist answer. */
  newId(): string {
    return randomId(8);
  }

  /** A known session, touched (its timeout starts again); null for an id not playing. */
  touch(id: string, timeoutMs: number): HlsViewer | null {
    const v = this.viewers.get(id);
    if (!v) return null;
    v.lastSeen = Date.now();
    v.timeoutMs = timeoutMs;
    return v;
  }

  /**
   * The session for a playlist request carrying `hls_ctx=id`: known → touched;
   * new → admitted through the policies and registered; kicked → eof.
   */
  lookup(
    id: string,
    req: IncomingMessage,
    vhost: string,
    app: string,
    stream: string,
    param: string,
    timeoutMs: number,
  ): ViewerLookup | Promise<ViewerLookup> {
    const v = this.touch(id, timeoutMs);
    if (v) return { kind: 'ok', viewer: v };
    if (this.kicked.has(id)) return { kind: 'eof' };
    const pending = this.pendingAdmissions.get(id);
    if (pending) return pending;
    const viewer = new HlsViewer(
      id,
      clientIp(req),
      vhost,
      app,
      stream,
      param,
      `http://${req.headers.host ?? ''}/${app}`,
      requestPageUrl(req),
      timeoutMs,
      (v, reason) => this.end(v, reason, true),
      requestBearer(req),
    );
    const accept = (): ViewerLookup => {
      this.viewers.set(id, viewer);
      this.ctx.clients.add(viewer);
      this.ctx.log.info({ cid: id, ip: viewer.ip, stream: `${vhost}/${app}/${stream}` }, 'HLS play started');
      return { kind: 'ok', viewer };
    };
    let result: ViewerLookup | null = null;
    const gated = this.ctx.admission.gate(
      'onPlay',
      viewer,
      () => (result = accept()),
      (d) => (result = { kind: 'denied', reason: d.reason, status: d.status }),
    );
    if (!gated) return result!;
    const p = gated.then(() => result!).finally(() => this.pendingAdmissions.delete(id));
    this.pendingAdmissions.set(id, p);
    return p;
  }

  /** The live session with this id, if any (segment requests on guarded vhosts). */
  viewer(id: string): HlsViewer | undefined {
    return this.viewers.get(id);
  }

  /** Ends every session (server stop). */
  stop(): void {
    clearInterval(this.timer);
    for (const v of [...this.viewers.values()]) this.end(v, 'server stopping', false);
  }

  private end(v: HlsViewer, reason: string, kicked: boolean): void {
    if (v.closed) return;
    v.closed = true;
    this.viewers.delete(v.id);
    if (kicked) this.kicked.set(v.id, Date.now());
    this.ctx.clients.remove(v);
    this.ctx.admission.notify('onStop', v);
    this.ctx.log.info({ cid: v.id, reason }, 'HLS play stopped');
  }

  private sweep(): void {
    const now = Date.now();
    for (const v of [...this.viewers.values()]) if (now - v.lastSeen > v.timeoutMs) this.end(v, 'timeout', false);
    for (const [id, at] of this.kicked) if (now - at > KICKED_TTL_MS) this.kicked.delete(id);
  }
}
