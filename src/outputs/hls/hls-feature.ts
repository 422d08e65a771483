/**
 * The HLS / LL-HLS output: follows every source (one segmenter per stream,
 * never per player), and answers on the HTTP port for playlists (from
 * memory, with hls_ctx sessions), LL-HLS parts (from memory, with blocking
 * reload), and segment files from hls_path. Every segment written is told
 * to `onSegment` (the composition root sends it to the on_hls callbacks).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import type { LiveSource, SourceObserver } from '../../live/live-source.js';
import type { MediaFrame } from '../../codec/media-frame.js';
import type { VhostConfig } from '../../config/vhost-config.js';
import { corsHeaders } from '../../core/http-cors.js';
import { streamUrl } from '../../protocol/stream-url.js';
import { requestVhost } from '../../core/http-request.js';
import { findStaticFile, notFound, safeRequestPath, sendMemory, serveStaticFile } from '../../core/static-files.js';
import { jailedPath } from '../../core/path-jail.js';
import { addQueryToMediaUris, addQueryToSegmentUris, mediaPaths, segmentPaths, writeSessionMaster } from '../../format/m3u8.js';
import type { HlsSegmentListener } from './hls-segment-notice.js';
import { DiskFileStore, type FileStore } from '../segment/file-store.js';
import { applyTemplate } from '../segment/path-template.js';
import { HlsSessions, type HlsViewer } from './hls-sessions.js';
import type { MemoryBody } from '../segment/memory-body.js';
import type { ServerConfig } from '../../config/server-config.js';
import { clip } from '../../log/clip.js';
import { HlsTsStream, type HlsAlign } from './hls-ts-stream.js';
import { abrLadderOf } from '../../ffmpeg/abr-ladder.js';
import { abrVariant } from './hls-abr-master.js';
import { writeMultivariantPlaylist, type HlsVariant } from '../../format/m3u8-multivariant.js';
import { livePlaylistCacheControl } from '../segment/cdn-cache.js';
import { LlHlsStream } from './ll-hls-stream.js';

interface StreamOutputs {
  ts: HlsTsStream | null;
  ll: LlHlsStream | null;
}

export interface HlsOptions {
  /** Told of every segment written and kept (on_hls). A listener that throws is logged. */
  onSegment?: HlsSegmentListener;
  store?: FileStore;
}

class HlsService {
  /** By source key; they outlive their source until disposed, so sequence numbers go on across republish. */
  readonly tsStreams = new Map<string, HlsTsStream>();
  readonly llStreams = new Map<string, LlHlsStream>();
  /** LL-HLS by URL base (`/live/livestream`). */
  private readonly llByBase = new Map<string, LlHlsStream>();
  /** Classic playlists by absolute file path, served from memory. */
  private readonly tsByM3u8 = new Map<string, HlsTsStream>();
  /** The newest classic segments, in memory, by absolute path. */
  private readonly segmentBodies = new Map<string, MemoryBody>();
  /** The roots of the current config (made once per config, not per request). */
  private rootsCache: { config: ServerConfig; roots: string[]; playlistRoots: string[]; prefixes: string[] } | null = null;
  readonly sessions: HlsSessions;
  private readonly store: FileStore;

  constructor(
    private readonly ctx: ServerContext,
    private readonly options: HlsOptions = {},
  ) {
    this.sessions = new HlsSessions(ctx);
    this.store = options.store ?? new DiskFileStore();
  }

  install(): FeatureHandle {
    this.ctx.onSourceCreated((s) => this.follow(s));
    this.ctx.routes.stream.push((req, res, url) => this.route(req, res, url));
    this.ctx.routes.fallback.push((req, res, url) => this.routeDisk(req, res, url));
    return {
      reload: () => this.reload(),
      stop: () => this.stop(),
    };
  }

  /** What each source currently feeds, for reload. */
  private readonly outputs = new WeakMap<LiveSource, StreamOutputs>();

  private follow(source: LiveSource): void {
    const out: StreamOutputs = { ts: null, ll: null };
    this.outputs.set(source, out);
    const observer: SourceObserver = {
      onPublish: (s) => {
        const v = this.ctx.vhost(s.vhost);
        out.ts = out.ll = null;
        if (!v) return;
        try {
          if (v.hls.enabled && v.hls.ll) out.ll = this.llFor(s, v);
          else if (v.hls.enabled) {
            out.ts = this.tsFor(s, v);
            out.ts.align = this.alignFor(s, v);
          }
        } catch (err) {
          this.ctx.log.error({ stream: s.key, err: (err as Error).message }, 'HLS disabled for this stream');
        }
        out.ts?.onPublish();
        out.ll?.onPublish();
      },
      onFrame: (_s, f: MediaFrame) => {
        out.ts?.onFrame(f);
        out.ll?.onFrame(f);
      },
      onUnpublish: () => {
        out.ts?.onUnpublish();
        out.ll?.onUnpublish();
      },
    };
    source.observers.add(observer);
  }

  /**
   * ABR ladder (abr-ladder.ts): the source cuts on the grid of its own
   * timeline; a rendition (an engine's output, published while its source
   * is) maps its timestamps onto the source's (its FFmpeg ran with -copyts,
   * and its own jitter correction moved them by `jitter.offsetMs`) and dates
   * its segments from the source's clock. Null for any other stream.
   */
  private alignFor(s: LiveSource, v: VhostConfig): HlsAlign | null {
    if (!v.transcodes.some((t) => t.enabled && t.abr.enabled)) return null;
    // A rendition first: with `transcode live`, it matches its source's scope too (and is not transcoded again).
    for (const src of this.ctx.sources.all()) {
      if (src === s || !src.active || src.app !== s.app || this.ctx.vhost(src.vhost)?.name !== v.name) continue;
      const ladder = abrLadderOf(v, src.vhost, src.app, src.stream);
      if (!ladder?.renditions.some((r) => r.stream === s.stream && this.ctx.vhost(r.vhost)?.name === v.name)) continue;
      return { offsetMs: () => s.jitter.offsetMs, epochMs: () => this.tsStreams.get(src.key)?.clockEpochMs ?? 0 };
    }
    const own = abrLadderOf(v, s.vhost, s.app, s.stream);
    return own && own.renditions.length > 0 ? { offsetMs: () => 0, epochMs: () => 0 } : null;
  }

  /** The playlist of this stream on this vhost (found by name, the vhost as either side spells it). */
  private tsStreamOf(vhostName: string, app: string, stream: string): HlsTsStream | undefined {
    for (const t of this.tsStreams.values()) if (t.app === app && t.stream === stream && this.ctx.vhost(t.vhost)?.name === vhostName) return t;
    return undefined;
  }

  /**
   * `<playlist>_abr.m3u8` next to an ABR ladder source's playlist: the
   * multivariant playlist of the source (with `abr.source` on) and of every
   * rendition that has segments. With hls_ctx sessions, each variant URI
   * carries a new session id (a session belongs to one stream); the
   * request's query (a token, `vhost=`) goes on every variant URI.
   */
  private routeAbrMaster(req: IncomingMessage, res: ServerResponse, url: URL, path: string): boolean {
    if (!path.endsWith('_abr.m3u8')) return false;
    const sourcePath = `${path.slice(0, -'_abr.m3u8'.length)}.m3u8`;
    let src: HlsTsStream | undefined;
    for (const prefix of this.rootsNow().prefixes) {
      src = this.tsByM3u8.get(prefix + sourcePath);
      if (src) break;
    }
    const v = src ? this.ctx.vhost(src.vhost) : null;
    const ladder = src && v ? abrLadderOf(v, src.vhost, src.app, src.stream) : null;
    if (!src || !v || !ladder) return false;
    const cors = this.cors(req);
    const sessions = v.hls.ctx || this.ctx.admission.guardsEveryPlay(v.name);
    const q = new URLSearchParams(url.search);
    q.delete('hls_ctx');
    const query = q.toString();
    const dir = posix.dirname(`/${src.m3u8Rel.replace(/^\/+/, '')}`);
    const members = [...(ladder.includeSource ? [{ stream: src.stream, engine: null }] : []), ...ladder.renditions.map((r) => ({ stream: r.stream, engine: r.engine }))];
    const variants: HlsVariant[] = [];
    for (const m of members) {
      const t = m.engine ? this.tsStreamOf(v.name, src.app, m.stream) : src;
      if (!t) continue;
      const params = [...(sessions ? [`hls_ctx=${this.sessions.newId()}`] : []), ...(query ? [query] : [])].join('&');
      const rel = posix.relative(dir, `/${t.m3u8Rel.replace(/^\/+/, '')}`);
      const variant = abrVariant(params ? `${rel}?${params}` : rel, t, this.ctx.sources.get(t.vhost, t.app, t.stream), m.engine);
      if (variant) variants.push(variant);
    }
    if (variants.length === 0) {
      notFound(res, cors);
      return true;
    }
    // With sessions: a new id per player, never cached (as the one-variant hls_ctx master).
    sendMemory(req, res, path, writeMultivariantPlaylist(variants), cors, 200, sessions ? 'private, no-store' : livePlaylistCacheControl(v.hls.fragment));
    return true;
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
      notify: (n) => {
        try {
          this.options.onSegment?.(n);
        } catch (err) {
          this.ctx.log.warn({ err: (err as Error).message, stream: n.streamUrl }, 'on_hls listener failed');
        }
      },
      publisher: () => {
        const p = this.ctx.clients.publishers().find((c) => c.vhost === s.vhost && c.app === s.app && c.stream === s.stream);
        return { param: p?.param ?? '', tcUrl: p?.tcUrl ?? '' };
      },
      memory: {
        set: (abs, body) => this.segmentBodies.set(abs, body),
        delete: (abs, body) => {
          if (this.segmentBodies.get(abs) === body) this.segmentBodies.delete(abs);
        },
      },
    });
    const stream = t;
    stream.onDisposed = () => {
      this.tsStreams.delete(s.key);
      this.tsByM3u8.delete(stream.m3u8Abs);
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
    if (!jailedPath(v.hls.path, `/${rel}`)) throw new Error(`HLS playlist path "${rel}" leaves hls_path`);
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

  /**
   * SIGHUP: SRS restarts the HLS muxer of live streams whose vhost's hls
   * block changed. Classic HLS closes its open segment at the next keyframe
   * and goes on with the new settings (same playlist, sequence numbers go
   * on); a changed playlist location, a switch between classic and LL-HLS,
   * or HLS turned on/off is handled as an unpublish of the old output and a
   * publish of the new one (fed the cached sequence headers).
   */
  private reload(): void {
    for (const source of this.ctx.sources.all()) {
      const out = this.outputs.get(source);
      if (!out || !source.active) continue;
      const v = this.ctx.vhost(source.vhost);
      const want = !v || !v.hls.enabled ? 'none' : v.hls.ll ? 'll' : 'ts';
      const have = out.ll ? 'll' : out.ts ? 'ts' : 'none';
      if (out.ts && v) out.ts.align = this.alignFor(source, v);
      const oldCfg = out.ts?.cfg ?? out.ll?.cfg;
      if (want === have && (want === 'none' || JSON.stringify(oldCfg) === JSON.stringify(v!.hls))) continue;
      if (want === 'ts' && have === 'ts' && v && sameLocation(out.ts!, v, source)) {
        out.ts!.restart(v.hls);
        continue;
      }
      if (want === 'll' && have === 'll' && v && oldCfg?.m3u8File === v.hls.m3u8File && oldCfg.path === v.hls.path) {
        out.ll!.cfg = v.hls;
        continue;
      }
      // Another output: the old one ends as at unpublish (its files go after hls_dispose).
      out.ts?.onUnpublish();
      out.ll?.onUnpublish();
      out.ts = out.ll = null;
      if (!v || want === 'none') continue;
      try {
        if (want === 'll') out.ll = this.llFor(source, v);
        else {
          const old = this.tsStreams.get(source.key);
          if (old && !sameLocation(old, v, source)) void old.dispose('HLS settings reloaded');
          out.ts = this.tsFor(source, v);
          out.ts.align = this.alignFor(source, v);
        }
      } catch (err) {
        this.ctx.log.error({ stream: source.key, err: (err as Error).message }, 'HLS disabled for this stream');
        continue;
      }
      const o = out.ts ?? out.ll!;
      o.onPublish();
      // The new output never saw the sequence headers: give it the cached ones.
      if (source.videoHeader) o.onFrame(source.videoHeader);
      if (source.audioHeader) o.onFrame(source.audioHeader);
      this.ctx.log.info({ stream: source.key, from: have, to: want }, 'HLS output changed by reload');
    }
  }

  /**
   * The directories HLS serves files from: hls_path and hls_key_file_path of
   * every vhost with HLS on; where a playlist on disk may be: those, then the
   * web root (a playlist there gets hls_ctx sessions too); and the latter
   * resolved, for the exact-path lookups of the files in memory.
   */
  private rootsNow(): { roots: string[]; playlistRoots: string[]; prefixes: string[] } {
    const config = this.ctx.config;
    if (this.rootsCache?.config === config) return this.rootsCache;
    const set = new Set<string>();
    for (const v of config.vhosts) {
      if (!v.enabled || !v.hls.enabled) continue;
      set.add(v.hls.path);
      if (v.hls.keys) set.add(v.hls.keyFilePath);
    }
    const roots = [...set];
    const playlistRoots = [...new Set([...roots, config.httpServer.dir])];
    const prefixes = playlistRoots.map((r) => resolve(r)).map((r) => (r === '/' ? '' : r));
    this.rootsCache = { config, roots, playlistRoots, prefixes };
    return this.rootsCache;
  }

  private route(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const u = req.url ?? '/';
    const q = u.indexOf('?');
    const raw = q < 0 ? u : u.slice(0, q);
    // A plain path (nothing to decode, no dot segment) is its own decoding; anything else is checked in full.
    const path = raw.charCodeAt(0) === 47 && !NOT_PLAIN.test(raw) ? raw : safeRequestPath(raw.startsWith('/') ? raw : `/${raw}`);
    // A path that tries to leave is refused by the static-file wing.
    if (path === null) return false;
    // A session's bytes (the API's send_bytes): every answer to a request naming its id, whichever route writes it.
    if (q >= 0 && u.includes('hls_ctx=')) this.countForSession(req, res, url);
    if (this.segmentBodies.size > 0 && path.endsWith('.ts')) {
      // One of the newest segments: an exact match of a file we wrote, from memory (a byte range is read from disk).
      if (req.headers.range !== undefined) return false;
      for (const prefix of this.rootsNow().prefixes) {
        const body = this.segmentBodies.get(prefix + path);
        if (body) {
          // A guarded vhost (JWT): from memory too, only to the session handed it.
          if (this.refusedMedia(req, res, url, path, null, true)) return true;
          body.send(req, res, this.ctx.config.httpServer.crossdomain);
          return true;
        }
      }
      return false;
    }
    if (this.llByBase.size > 0 && this.routeLowLatency(req, res, url, path)) return true;
    if (path.endsWith('.m3u8') && this.routePlaylist(req, res, url, path)) return true;
    if (path.endsWith('_abr.m3u8') && this.routeAbrMaster(req, res, url, path)) return true;
    // Files on disk: asked by the HTTP server after every live route declined (routeDisk), never with a sync stat here.
    return false;
  }

  /** The async fallback of the HTTP server: playlists (with hls_ctx sessions) and any file on disk. */
  private async routeDisk(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const raw = (req.url ?? '/').split('?')[0]!;
    const path = safeRequestPath(raw.startsWith('/') ? raw : `/${raw}`);
    if (path === null) return false;
    const cors = corsHeaders(req, this.ctx.config.httpServer.crossdomain);
    // .ts segments go to the session handed them; .m4s/.mpd/.mp4 here are DASH's (a dash_path inside hls_path) or stray, and have no HLS session.
    if ((path.endsWith('.ts') || /\.(m4s|mpd|mp4)$/.test(path)) && this.refusedMedia(req, res, url, path, cors, path.endsWith('.ts'))) return true;
    if (path.endsWith('.m3u8')) {
      const file = await findStaticFile(this.rootsNow().playlistRoots, path);
      if (!file) return false;
      let body: string;
      try {
        body = await readFile(file.abs, 'utf8');
      } catch {
        return false;
      }
      this.withSession(req, res, url, path, cors, (ctxId, viewer, v) => {
        const out = ctxId && viewer && v && this.tsCtxOn(v) ? this.sessionTsPlaylist(viewer, ctxId, v, body, path) : body;
        if (v && this.ctx.admission.guardsEveryPlay(v.name)) sendMemory(req, res, path, out, cors, 200, 'private, no-cache');
        else sendMemory(req, res, path, out, cors);
      });
      return true;
    }
    return serveStaticFile(this.rootsNow().roots, req, res, url, path, cors);
  }

  /**
   * On a vhost whose every play is guarded (JWT): a media file (TS segment,
   * LL-HLS init, segment or part) is served only to the hls_ctx session that
   * was handed it in a playlist; media with no session (`bySession` false:
   * DASH) are refused. True when refused. Every answer of media, from memory
   * or from disk, asks this first. `cors` null: made only for a refusal.
   */
  private refusedMedia(req: IncomingMessage, res: ServerResponse, url: URL, path: string, cors: Record<string, string> | null, bySession: boolean): boolean {
    const v = this.vhostOf(req, url);
    if (!v || !this.ctx.admission.guardsEveryPlay(v.name)) return false;
    const id = url.searchParams.get('hls_ctx');
    if (bySession && id && this.sessions.viewer(id)?.wasHanded(path)) return false;
    this.ctx.log.warn({ path: clip(path), hlsCtx: id ? clip(id, 64) : null, reason: bySession ? 'not handed to this session' : 'no player session for this media on a guarded vhost' }, 'HLS media refused');
    res.writeHead(403, { ...(cors ?? this.cors(req)), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Forbidden');
    return true;
  }

  private countForSession(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const id = url.searchParams.get('hls_ctx');
    const viewer = id ? this.sessions.viewer(id) : undefined;
    // What the answer puts on the connection, headers included; an HTTP/2 connection carries other streams too, so it is not counted there.
    const socket = req.socket;
    if (!viewer || req.httpVersionMajor !== 1 || !socket) return;
    const before = socket.bytesWritten;
    res.once('finish', () => {
      viewer.bytesSent += Math.max(0, socket.bytesWritten - before);
    });
  }

  /** Whether a session's classic playlist carries its id on the segment URIs: hls_ts_ctx, or a guarded vhost (JWT). */
  private tsCtxOn(v: VhostConfig | null): boolean {
    return v !== null && (v.hls.tsCtx || this.ctx.admission.guardsEveryPlay(v.name));
  }

  /**
   * The session's text of a classic playlist: on a guarded vhost the session
   * is handed the segments it lists; with hls_ts_ctx or a guard, their URIs carry its id.
   */
  private sessionTsPlaylist(viewer: HlsViewer, ctxId: string, v: VhostConfig, body: string, path: string): string {
    if (this.ctx.admission.guardsEveryPlay(v.name)) viewer.handed(segmentPaths(body, path, '.ts'));
    return addQueryToSegmentUris(body, '.ts', 'hls_ctx', ctxId);
  }

  /** The last Host header's vhost, for the current config (every reload of a player asks the same). */
  private vhostMemo: { config: ServerConfig; host: string | undefined; v: VhostConfig | null } | null = null;

  private vhostOf(req: IncomingMessage, url: URL): VhostConfig | null {
    // A query naming the vhost (?vhost=, ?domain=) is read in full; else the vhost follows from the Host header alone.
    const q = url.search;
    if (q.includes('vhost=') || q.includes('domain=')) return this.ctx.vhost(requestVhost(req, url));
    const memo = this.vhostMemo;
    const host = req.headers.host;
    if (memo && memo.config === this.ctx.config && memo.host === host) return memo.v;
    const v = this.ctx.vhost(requestVhost(req, url));
    this.vhostMemo = { config: this.ctx.config, host, v };
    return v;
  }

  /** A classic playlist from memory (one we write), with hls_ctx sessions; one on disk is left to routeDisk. */
  private routePlaylist(req: IncomingMessage, res: ServerResponse, url: URL, path: string): boolean {
    let stream: HlsTsStream | null = null;
    for (const prefix of this.rootsNow().prefixes) {
      const t = this.tsByM3u8.get(prefix + path);
      if (t?.playlistBody) {
        stream = t;
        break;
      }
    }
    if (!stream) return false;
    const t = stream;
    this.withSession(req, res, url, path, null, (ctxId, viewer, v) => {
      const body = t.playlistBody;
      const text = t.playlist;
      if (!body || text === null) return notFound(res, this.cors(req));
      // The session's own copy (its id on every segment URI), made once per playlist, not per request.
      const out = ctxId && viewer && v && this.tsCtxOn(v) ? viewer.playlistFor(body, () => this.sessionTsPlaylist(viewer, ctxId, v, text, path), this.ctx.admission.guardsEveryPlay(v.name)) : body;
      out.send(req, res, this.ctx.config.httpServer.crossdomain);
    });
    return true;
  }

  /**
   * hls_ctx: without an id, answer the one-variant master playlist; with one,
   * find or admit the session, then `serve(id, viewer, vhost)`. With hls_ctx off, `serve(null, null, vhost)`.
   * `cors` null: made only when an answer other than serve() needs it.
   */
  private withSession(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
    corsOrNull: Record<string, string> | null,
    serve: (id: string | null, viewer: HlsViewer | null, v: VhostConfig | null) => void,
  ): void {
    const v = this.vhostOf(req, url);
    // A guarded vhost (JWT) keeps sessions even with hls_ctx off: they carry the token's admission to the segments.
    if (!v || (!v.hls.ctx && !this.ctx.admission.guardsEveryPlay(v.name))) return serve(null, null, v);
    const id = url.searchParams.get('hls_ctx');
    const timeoutMs = v.hls.window * 2000;
    // A known session (every reload of a playing player): no admission, no query rewriting.
    const known = id ? this.sessions.touch(id, timeoutMs) : null;
    if (known) return this.sessionOpens(known, v, path) ? serve(id, known, v) : this.refuseOtherStream(req, res, known, path, corsOrNull);
    const cors = corsOrNull ?? corsHeaders(req, this.ctx.config.httpServer.crossdomain);
    if (!id) {
      const q = url.search.length > 1 ? `&${url.search.slice(1)}` : '';
      const body = writeSessionMaster(`${posix.basename(path)}?hls_ctx=${this.sessions.newId()}${q}`);
      // A new session id for each player: a cache must never hand one player's id to another
      // (on a JWT vhost that would let a second player ride the first one's admission).
      return sendMemory(req, res, path, body, cors, 200, 'private, no-store');
    }
    if (!/^[0-9a-zA-Z_-]{1,64}$/.test(id)) return notFound(res, cors);
    const dir = posix.dirname(path).replace(/^\/+/, '');
    const param = stripQuery(url, ['hls_ctx', '_HLS_msn', '_HLS_part', '_HLS_skip']);
    const r = this.sessions.admit(id, req, v.name, dir, posix.basename(path), param, timeoutMs);
    const after = (l: Awaited<typeof r>): void => {
      if (res.destroyed) return;
      if (l.kind === 'ok') return this.sessionOpens(l.viewer, v, path) ? serve(id, l.viewer, v) : this.refuseOtherStream(req, res, l.viewer, path, cors);
      if (l.kind === 'eof') {
        res.writeHead(404, { ...cors, 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`HLS stream ${path} is EOF`);
        return;
      }
      this.ctx.log.warn({ cid: id, path: clip(path), reason: clip(l.reason) }, 'HLS play denied');
      res.writeHead(l.status, { ...cors, 'Content-Type': 'text/plain; charset=utf-8', ...(l.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {}) });
      res.end(l.status === 401 ? 'Unauthorized' : 'Forbidden');
    };
    if (r instanceof Promise) void r.then(after);
    else after(r);
  }

  /**
   * On a guarded vhost (JWT) a session was admitted for one stream: its id
   * opens that playlist only (else a token for one stream would hand out the
   * segments of any other). Elsewhere a session's id is not checked (as before).
   */
  private sessionOpens(viewer: HlsViewer, v: VhostConfig, path: string): boolean {
    if (!this.ctx.admission.guardsEveryPlay(v.name)) return true;
    return viewer.vhost === v.name && viewer.stream === posix.basename(path) && viewer.app === posix.dirname(path).replace(/^\/+/, '');
  }

  private refuseOtherStream(req: IncomingMessage, res: ServerResponse, viewer: HlsViewer, path: string, cors: Record<string, string> | null): void {
    this.ctx.log.warn({ cid: viewer.id, path: clip(path), reason: 'session of another stream' }, 'HLS play denied');
    res.writeHead(403, { ...(cors ?? this.cors(req)), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Forbidden');
  }

  private routeLowLatency(req: IncomingMessage, res: ServerResponse, url: URL, path: string): boolean {
    if (path.endsWith('.m3u8')) {
      const ll = this.llByBase.get(path.slice(0, -5));
      if (!ll) return false;
      this.withSession(req, res, url, path, null, (id, viewer, v) => void this.serveLlPlaylist(req, res, url, ll, path, id, viewer, v));
      return true;
    }
    let m = /^(.*)-init\.mp4$/.exec(path);
    if (m) {
      const ll = this.llByBase.get(m[1]!);
      if (!ll) return false;
      if (this.refusedMedia(req, res, url, path, null, true)) return true;
      if (ll.initBody) ll.initBody.send(req, res, this.ctx.config.httpServer.crossdomain);
      else notFound(res, this.cors(req));
      return true;
    }
    m = /^(.*)-(\d+)(?:\.(\d+))?\.m4s$/.exec(path);
    if (!m) return false;
    const ll = this.llByBase.get(m[1]!);
    if (!ll) return false;
    if (this.refusedMedia(req, res, url, path, null, true)) return true;
    const msn = Number(m[2]);
    const part = m[3] === undefined ? undefined : Number(m[3]);
    void this.serveLlMedia(req, res, ll, msn, part);
    return true;
  }

  private cors(req: IncomingMessage): Record<string, string> {
    return corsHeaders(req, this.ctx.config.httpServer.crossdomain);
  }

  /** A playlist request, blocking (`_HLS_msn`) or not: every waiter of a part gets the one Buffer rendered for it. */
  private async serveLlPlaylist(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    ll: LlHlsStream,
    path: string,
    ctxId: string | null,
    viewer: HlsViewer | null,
    v: VhostConfig | null,
  ): Promise<void> {
    const blocking = url.search.length > 1 && url.search.includes('_HLS_');
    const msnQ = blocking ? url.searchParams.get('_HLS_msn') : null;
    const partQ = blocking ? url.searchParams.get('_HLS_part') : null;
    const cors = (): Record<string, string> => this.cors(req);
    if (msnQ !== null) {
      const msn = Number(msnQ);
      const part = partQ === null ? undefined : Number(partQ);
      if (!Number.isInteger(msn) || msn < 0 || (part !== undefined && (!Number.isInteger(part) || part < 0))) {
        return badRequest(res, cors(), 'bad _HLS_msn/_HLS_part');
      }
      // RFC 8216bis 6.2.5.2: a request too far ahead of the live edge is refused.
      if (msn > ll.edgeMsn + 2) return badRequest(res, cors(), '_HLS_msn is too far ahead');
      const ok = await ll.waitFor(msn, part, ll.targetSeconds * 3000);
      if (res.destroyed) return;
      if (!ok) {
        res.writeHead(503, { ...cors(), 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
        res.end('Playlist update not available in time');
        return;
      }
    } else if (partQ !== null) return badRequest(res, cors(), '_HLS_part without _HLS_msn');
    const body = msnQ !== null ? ll.blockingPlaylistBody : ll.playlistBody;
    const text = ll.playlist;
    if (!body || text === null) return notFound(res, cors());
    // A guarded vhost (JWT): the session is handed the media this playlist lists, and their URIs carry its id
    // (the session's own copy, made once per playlist, not per request).
    if (ctxId && viewer && v && this.ctx.admission.guardsEveryPlay(v.name)) {
      const own = viewer.playlistFor(body, () => {
        viewer.handed(mediaPaths(text, path));
        return addQueryToMediaUris(text, 'hls_ctx', ctxId);
      }, true);
      return own.send(req, res, this.ctx.config.httpServer.crossdomain);
    }
    body.send(req, res, this.ctx.config.httpServer.crossdomain);
  }

  private async serveLlMedia(req: IncomingMessage, res: ServerResponse, ll: LlHlsStream, msn: number, part: number | undefined): Promise<void> {
    const get = (): MemoryBody | null => (part === undefined ? ll.segmentBody(msn) : ll.partBody(msn, part));
    let data = get();
    // A hinted part (or the segment in progress) is held until it exists.
    if (!data && ll.cur && ll.cur.msn === msn && (part === undefined || part <= ll.cur.parts.length)) {
      const wait = part === undefined ? ll.targetSeconds * 3000 : ll.partTargetMs * 3 + 1000;
      const ok = await ll.waitFor(msn, part, wait);
      if (res.destroyed) return;
      if (ok) data = get();
    }
    if (!data) return notFound(res, this.cors(req));
    data.send(req, res, this.ctx.config.httpServer.crossdomain);
  }

  private async stop(): Promise<void> {
    this.sessions.stop();
    const waits: Promise<void>[] = [];
    for (const t of this.tsStreams.values()) {
      t.stopTimers();
      // SRS deletes the HLS files at shutdown when hls_dispose is set.
      waits.push(t.cfg.dispose > 0 ? t.dispose('server stopping') : t.io.idle());
    }
    for (const l of this.llStreams.values()) l.dispose();
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 3000).unref())]);
  }
}

/** Whether the vhost's new hls settings put this stream's playlist where the stream already writes it. */
function sameLocation(t: HlsTsStream, v: VhostConfig, s: LiveSource): boolean {
  const rel = applyTemplate(v.hls.m3u8File, { vhost: s.vhost, app: s.app, stream: s.stream });
  return t.m3u8Rel === rel && jailedPath(v.hls.path, '/') === jailedPath(t.cfg.path, '/');
}

/** A path that needs decoding or holds a dot segment (or a character no plain path has): checked by safeRequestPath. */
// eslint-disable-next-line no-control-regex
const NOT_PLAIN = /[%\\\x00-\x1f]|\/\./;

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

export function hlsFeature(options: HlsOptions = {}): Feature {
  return {
    name: 'hls',
    install(ctx) {
      return new HlsService(ctx, options).install();
    },
  };
}
