/**
 * The HLS / LL-HLS / DASH feature: follows every source (one segmenter per
 * stream, never per player), and answers on the HTTP port for playlists
 * (from memory, with hls_ctx sessions), LL-HLS parts (from memory, with
 * blocking reload), and static files from hls_path, dash_path and
 * http_server.dir.
 *
 * `on_hls` notifications: see hls-events.ts (`onHlsSegment(ctx, listener)`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Feature, FeatureHandle } from '../../server/features.js';
import type { ServerContext } from '../../server/server-context.js';
import type { LiveSource, SourceObserver } from '../../live/live-source.js';
import type { MediaFrame } from '../../codec/media-frame.js';
import type { VhostConfig } from '../../config/vhost-config.js';
import { corsHeaders } from '../../server/http-cors.js';
import { DEFAULT_VHOST, streamUrl } from '../../protocol/stream-url.js';
import { findStaticFile, notFound, resolveUnder, safeRequestPath, sendMemory, sendStaticFile } from '../../server/static-files.js';
import { addQueryToSegmentUris, writeSessionMaster } from '../../format/m3u8.js';
import { DashStream } from '../dash/dash-stream.js';
import { emitHlsSegment } from './hls-events.js';
import { DiskFileStore, type FileStore } from './hls-file-store.js';
import { applyTemplate } from './hls-path-template.js';
import { HlsSessions } from './hls-sessions.js';
import { HlsTsStream } from './hls-ts-stream.js';
import { LlHlsStream } from './ll-hls-stream.js';

interface StreamOutputs {
  ts: HlsTsStream | null;
  ll: LlHlsStream | null;
  dash: DashStream | null;
}

export class HlsService {
  /** By source key; they outlive their source until disposed, so sequence numbers go on across republish. */
  readonly tsStreams = new Map<string, HlsTsStream>();
  readonly llStreams = new Map<string, LlHlsStream>();
  readonly dashStreams = new Map<string, DashStream>();
  /** LL-HLS by URL base (`/live/livestream`). */
  private readonly llByBase = new Map<string, LlHlsStream>();
  /** Classic playlists by absolute file path, served from memory. */
  private readonly tsByM3u8 = new Map<string, HlsTsStream>();
  readonly sessions: HlsSessions;

  constructor(
    private readonly ctx: ServerContext,
    private readonly store: FileStore = new DiskFileStore(),
  ) {
    this.sessions = new HlsSessions(ctx);
  }

  install(): FeatureHandle {
    this.ctx.sourceCreatedHandlers.push((s) => this.follow(s));
    this.ctx.streamRoutes.push((req, res, url) => this.route(req, res, url));
    return {
      stop: () => this.stop(),
    };
  }

  private follow(source: LiveSource): void {
    const out: StreamOutputs = { ts: null, ll: null, dash: null };
    const observer: SourceObserver = {
      onPublish: (s) => {
        const v = this.ctx.vhost(s.vhost);
        out.ts = out.ll = out.dash = null;
        if (!v) return;
        try {
          if (v.hls.enabled && v.hls.ll) out.ll = this.llFor(s, v);
          else if (v.hls.enabled) out.ts = this.tsFor(s, v);
          if (v.dash.enabled) out.dash = this.dashFor(s, v);
        } catch (err) {
          this.ctx.log.error({ stream: s.key, err: (err as Error).message }, 'HLS/DASH disabled for this stream');
        }
        out.ts?.onPublish();
        out.ll?.onPublish();
        out.dash?.onPublish();
      },
      onFrame: (_s, f: MediaFrame) => {
        out.ts?.onFrame(f);
        out.ll?.onFrame(f);
        out.dash?.onFrame(f);
      },
      onUnpublish: () => {
        out.ts?.onUnpublish();
        out.ll?.onUnpublish();
        out.dash?.onUnpublish();
      },
    };
    source.observers.add(observer);
  }

  private log(s: LiveSource): ServerContext['log'] {
    return this.ctx.log.child({ stream: streamUrl(s.vhost, s.app, s.stream) });
  }

  private tsFor(s: LiveSource, v: VhostConfig): HlsTsStream {
    let t = this.tsStreams.get(s.key);
    if (t) {
      t.cfg = v.hls;
      return t;
    }
    const log = this.log(s);
    t = new HlsTsStream(s.vhost, s.app, s.stream, v.hls, {
      store: this.store,
      log,
      notify: (n) => emitHlsSegment(this.ctx, n),
      publisher: () => {
        const p = this.ctx.clients.publishers().find((c) => c.vhost === s.vhost && c.app === s.app && c.stream === s.stream);
        return { param: p?.param ?? '', tcUrl: p?.tcUrl ?? '' };
      },
    });
    const stream = t;
    const dispose = stream.dispose.bind(stream);
    stream.dispose = (reason: string) => {
      this.tsStreams.delete(s.key);
      this.tsByM3u8.delete(stream.m3u8Abs);
      return dispose(reason);
    };
    this.tsStreams.set(s.key, t);
    this.tsByM3u8.set(t.m3u8Abs, t);
    return t;
  }

  private llFor(s: LiveSource, v: VhostConfig): LlHlsStream {
    let l = this.llStreams.get(s.key);
    if (l) {
      l.cfg = v.hls;
      return l;
    }
    const rel = applyTemplate(v.hls.m3u8File, { vhost: s.vhost, app: s.app, stream: s.stream });
    if (!resolveUnder(v.hls.path, `/${rel}`)) throw new Error(`HLS playlist path "${rel}" leaves hls_path`);
    const urlBase = `/${rel.replace(/^\/+/, '').replace(/\.m3u8$/, '')}`;
    l = new LlHlsStream(posix.basename(urlBase), v.hls, this.log(s));
    l.onDisposed = () => {
      this.llStreams.delete(s.key);
      this.llByBase.delete(urlBase);
    };
    this.llStreams.set(s.key, l);
    this.llByBase.set(urlBase, l);
    return l;
  }

  private dashFor(s: LiveSource, v: VhostConfig): DashStream {
    let d = this.dashStreams.get(s.key);
    if (d) {
      d.cfg = v.dash;
      return d;
    }
    d = new DashStream(s.vhost, s.app, s.stream, v.dash, this.store, this.log(s));
    this.dashStreams.set(s.key, d);
    return d;
  }

  /** Every directory the static server may serve from (hls_path, dash_path, http_server.dir). */
  private roots(): string[] {
    const set = new Set<string>();
    for (const v of this.ctx.config.vhosts) {
      if (!v.enabled) continue;
      if (v.hls.enabled) set.add(v.hls.path);
      if (v.dash.enabled) set.add(v.dash.path);
    }
    set.add(this.ctx.config.httpServer.dir);
    return [...set];
  }

  private route(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const raw = (req.url ?? '/').split('?')[0]!;
    const cors = corsHeaders(req, this.ctx.config.httpServer.crossdomain);
    const path = safeRequestPath(raw.startsWith('/') ? raw : `/${raw}`);
    if (path === null) {
      this.ctx.log.warn({ ip: req.socket.remoteAddress, path: raw.slice(0, 200) }, 'HTTP path refused (outside the web root)');
      res.writeHead(403, { ...cors, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Forbidden');
      return true;
    }
    if (this.llByBase.size > 0 && this.routeLowLatency(req, res, url, path, cors)) return true;
    if (path.endsWith('.m3u8') && this.routePlaylist(req, res, url, path, cors)) return true;
    const file = findStaticFile(this.roots(), path);
    if (!file) return false;
    sendStaticFile(req, res, file, url, cors);
    return true;
  }

  private vhostOf(req: IncomingMessage, url: URL): VhostConfig | null {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return this.ctx.vhost(url.searchParams.get('vhost') ?? url.searchParams.get('domain') ?? (host || DEFAULT_VHOST));
  }

  /** A classic playlist: from memory when we write it, else from disk; with hls_ctx sessions. */
  private routePlaylist(req: IncomingMessage, res: ServerResponse, url: URL, path: string, cors: Record<string, string>): boolean {
    let text: string | null = null;
    for (const root of this.roots()) {
      const abs = resolveUnder(root, path);
      const t = abs ? this.tsByM3u8.get(abs) : undefined;
      if (t?.playlist) {
        text = t.playlist;
        break;
      }
    }
    let load: Promise<string> | null = null;
    if (text === null) {
      const file = findStaticFile(this.roots(), path);
      if (!file) return false;
      load = readFile(file.abs, 'utf8');
    }
    const serve = (body: string): void => {
      this.withSession(req, res, url, path, cors, (ctxId) => {
        const v = this.vhostOf(req, url);
        const out = ctxId && v?.hls.tsCtx ? addQueryToSegmentUris(body, '.ts', 'hls_ctx', ctxId) : body;
        sendMemory(req, res, path, out, cors);
      });
    };
    if (load) load.then(serve, () => notFound(res, cors));
    else serve(text!);
    return true;
  }

  /**
   * hls_ctx: without an id, answer the one-variant master playlist; with one,
   * find or admit the session, then `serve(id)`. With hls_ctx off, `serve(null)`.
   */
  private withSession(req: IncomingMessage, res: ServerResponse, url: URL, path: string, cors: Record<string, string>, serve: (id: string | null) => void): void {
    const v = this.vhostOf(req, url);
    if (!v || !v.hls.ctx) return serve(null);
    const id = url.searchParams.get('hls_ctx');
    if (!id) {
      const q = url.search.length > 1 ? `&${url.search.slice(1)}` : '';
      const body = writeSessionMaster(`${posix.basename(path)}?hls_ctx=${this.sessions.newId()}${q}`);
      return sendMemory(req, res, path, body, cors);
    }
    if (!/^[0-9a-zA-Z_-]{1,64}$/.test(id)) return notFound(res, cors);
    const dir = posix.dirname(path).replace(/^\/+/, '');
    const param = stripQuery(url, ['hls_ctx', '_HLS_msn', '_HLS_part', '_HLS_skip']);
    const r = this.sessions.lookup(id, req, v.name, dir, posix.basename(path), param, v.hls.window * 2000);
    const after = (l: Awaited<typeof r>): void => {
      if (res.destroyed) return;
      if (l.kind === 'ok') return serve(id);
      if (l.kind === 'eof') {
        res.writeHead(404, { ...cors, 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`HLS stream ${path} is EOF`);
        return;
      }
      this.ctx.log.warn({ cid: id, path, reason: l.reason }, 'HLS play denied');
      res.writeHead(403, { ...cors, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Forbidden');
    };
    if (r instanceof Promise) void r.then(after);
    else after(r);
  }

  private routeLowLatency(req: IncomingMessage, res: ServerResponse, url: URL, path: string, cors: Record<string, string>): boolean {
    if (path.endsWith('.m3u8')) {
      const ll = this.llByBase.get(path.slice(0, -5));
      if (!ll) return false;
      this.withSession(req, res, url, path, cors, () => void this.serveLlPlaylist(req, res, url, ll, path, cors));
      return true;
    }
    let m = /^(.*)-init\.mp4$/.exec(path);
    if (m) {
      const ll = this.llByBase.get(m[1]!);
      if (!ll) return false;
      if (ll.init) sendMemory(req, res, path, ll.init, cors);
      else notFound(res, cors);
      return true;
    }
    m = /^(.*)-(\d+)(?:\.(\d+))?\.m4s$/.exec(path);
    if (!m) return false;
    const ll = this.llByBase.get(m[1]!);
    if (!ll) return false;
    const msn = Number(m[2]);
    const part = m[3] === undefined ? undefined : Number(m[3]);
    void this.serveLlMedia(req, res, ll, path, msn, part, cors);
    return true;
  }

  private async serveLlPlaylist(req: IncomingMessage, res: ServerResponse, url: URL, ll: LlHlsStream, path: string, cors: Record<string, string>): Promise<void> {
    const msnQ = url.searchParams.get('_HLS_msn');
    const partQ = url.searchParams.get('_HLS_part');
    if (msnQ !== null) {
      const msn = Number(msnQ);
      const part = partQ === null ? undefined : Number(partQ);
      if (!Number.isInteger(msn) || msn < 0 || (part !== undefined && (!Number.isInteger(part) || part < 0))) {
        return badRequest(res, cors, 'bad _HLS_msn/_HLS_part');
      }
      // RFC 8216bis 6.2.5.2: a request too far ahead of the live edge is refused.
      if (msn > ll.edgeMsn + 2) return badRequest(res, cors, '_HLS_msn is too far ahead');
      const ok = await ll.waitFor(msn, part, ll.targetSeconds * 3000);
      if (res.destroyed) return;
      if (!ok) {
        res.writeHead(503, { ...cors, 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
        res.end('Playlist update not available in time');
        return;
      }
    } else if (partQ !== null) return badRequest(res, cors, '_HLS_part without _HLS_msn');
    if (!ll.playlist) return notFound(res, cors);
    sendMemory(req, res, path, ll.playlist, cors);
  }

  private async serveLlMedia(req: IncomingMessage, res: ServerResponse, ll: LlHlsStream, path: string, msn: number, part: number | undefined, cors: Record<string, string>): Promise<void> {
    const get = (): Buffer | null => (part === undefined ? ll.segment(msn) : (ll.part(msn, part)?.data ?? null));
    let data = get();
    // A hinted part (or the segment in progress) is held until it exists.
    if (!data && ll.cur && ll.cur.msn === msn && (part === undefined || part <= ll.cur.parts.length)) {
      const wait = part === undefined ? ll.targetSeconds * 3000 : ll.partTargetMs * 3 + 1000;
      const ok = await ll.waitFor(msn, part, wait);
      if (res.destroyed) return;
      if (ok) data = get();
    }
    if (!data) return notFound(res, cors);
    sendMemory(req, res, path, data, cors);
  }

  private async stop(): Promise<void> {
    this.sessions.stop();
    const waits: Promise<void>[] = [];
    for (const t of this.tsStreams.values()) {
      t.stopTimers();
      // SRS deletes the HLS files at shutdown when hls_dispose is set.
      waits.push(t.cfg.dispose > 0 ? t.dispose('server stopping') : t.io.idle());
    }
    for (const d of this.dashStreams.values()) {
      d.stopTimers();
      waits.push(d.cfg.dispose > 0 ? d.dispose('server stopping') : d.io.idle());
    }
    for (const l of this.llStreams.values()) l.dispose();
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 3000).unref())]);
  }
}

function badRequest(res: ServerResponse, cors: Record<string, string>, msg: string): void {
  res.writeHead(400, { ...cors, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(msg);
}

/** The request's query without our own keys, with its leading `?`, or ''. */
function stripQuery(url: URL, keys: readonly string[]): string {
  const q = new URLSearchParams(url.search);
  for (const k of keys) q.delete(k);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const hlsFeature: Feature = {
  name: 'hls',
  install(ctx) {
    return new HlsService(ctx).install();
  },
};
