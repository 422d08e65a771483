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
import { MemoryBody } from '../segment/memory-body.js';
import { PlaySessions, type SessionLookup } from '../segment/play-sessions.js';

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

export type DashViewerLookup = SessionLookup<DashViewer>;

export interface DashSessionRequest {
  vhost: string;
  app: string;
  stream: string;
  param: string;
  mediaDir: string;
  timeoutMs: number;
}

export class DashSessions extends PlaySessions<DashViewer> {
  constructor(ctx: ServerContext) {
    super(ctx, 'DASH');
  }

  /** The session for an MPD request carrying `dash_ctx=id`: known → touched; new → admitted and registered; kicked → eof. */
  admit(id: string, req: IncomingMessage, r: DashSessionRequest): DashViewerLookup | Promise<DashViewerLookup> {
    return this.lookup(id, r.timeoutMs, (onClose) => new DashViewer(id, clientIp(req), r.vhost, r.app, r.stream, r.param, `http://${req.headers.host ?? ''}/${r.app}`, requestPageUrl(req), r.mediaDir, r.timeoutMs, onClose, requestBearer(req)));
  }
}
