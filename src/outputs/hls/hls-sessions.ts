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
import { MemoryBody } from '../segment/memory-body.js';
import { PlaySessions, type SessionLookup } from '../segment/play-sessions.js';

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

export type ViewerLookup = SessionLookup<HlsViewer>;

/** Media paths a session remembers: several windows of segments. */
const MAX_HANDED = 512;

export class HlsSessions extends PlaySessions<HlsViewer> {
  constructor(ctx: ServerContext) {
    super(ctx, 'HLS');
  }

  /**
   * The session for a playlist request carrying `hls_ctx=id`: known → touched;
   * new → admitted through the policies and registered; kicked → eof.
   */
  admit(
    id: string,
    req: IncomingMessage,
    vhost: string,
    app: string,
    stream: string,
    param: string,
    timeoutMs: number,
  ): ViewerLookup | Promise<ViewerLookup> {
    return this.lookup(id, timeoutMs, (onClose) => new HlsViewer(id, clientIp(req), vhost, app, stream, param, `http://${req.headers.host ?? ''}/${app}`, requestPageUrl(req), timeoutMs, onClose, requestBearer(req)));
  }
}
