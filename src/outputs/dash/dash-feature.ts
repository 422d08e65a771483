/**
 * The MPEG-DASH output: one DashStream per published stream (never per
 * player) when the vhost's `dash` is on, and its files served from
 * `dash_path` on the HTTP port. On a vhost whose every play is guarded
 * (JWT) players get sessions (dash-sessions.ts): the token on the MPD
 * covers that stream's segments and nothing else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { posix, resolve } from 'node:path';
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import type { LiveSource } from '../../live/live-source.js';
import type { VhostConfig } from '../../config/vhost-config.js';
import { corsHeaders } from '../../core/http-cors.js';
import { requestVhost } from '../../core/http-request.js';
import { notFound, safeRequestPath, serveStaticFile } from '../../core/static-files.js';
import { addQueryToMpdTemplates } from '../../format/mpd.js';
import { clip } from '../../log/clip.js';
import { DashSessions } from './dash-sessions.js';
import { streamUrl } from '../../protocol/stream-url.js';
import { DiskFileStore, type FileStore } from '../segment/file-store.js';
import { DashStream, type DashAlign, type DashLadderTrack } from './dash-stream.js';
import { MemoryBody } from '../segment/memory-body.js';
import type { ServerConfig } from '../../config/server-config.js';
import { abrLadderOf } from '../../ffmpeg/abr-ladder.js';
import { writeLadderMpd } from '../../format/mpd.js';
import { livePlaylistCacheControl } from '../segment/cdn-cache.js';

class DashService {
  /** By source key; they outlive their source until disposed, so segment numbers go on across republish. */
  readonly streams = new Map<string, DashStream>();
  /** The same by absolute MPD path (guarded vhosts find the stream of an MPD request). */
  private readonly byMpd = new Map<string, DashStream>();
  private readonly sessions: DashSessions;
  /** The MPDs, inits and newest segments of every stream, in memory, by absolute path. */
  private readonly bodies = new Map<string, MemoryBody>();
  private rootsCache: { config: ServerConfig; roots: string[]; prefixes: string[] } | null = null;
  /** The ladder MPDs as last rendered, by path, with what they were made from. */
  private readonly abrCache = new Map<string, { version: string; cfg: DashStream['cfg']; body: MemoryBody | null }>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly store: FileStore = new DiskFileStore(),
  ) {
    this.sessions = new DashSessions(ctx);
  }

  install(): FeatureHandle {
    this.ctx.onSourceCreated((s) => this.follow(s));
    this.ctx.routes.stream.push((req, res, url) => this.routeMemory(req, res, url));
    this.ctx.routes.fallback.push((req, res, url) => this.routeDisk(req, res, url));
    return { stop: () => this.stop() };
  }

  private follow(source: LiveSource): void {
    let out: DashStream | null = null;
    source.observers.add({
      onPublish: (s) => {
        out = null;
        const v = this.ctx.vhost(s.vhost);
        if (!v?.dash.enabled) return;
        try {
          out = this.streamFor(s, v);
          out.align = this.alignFor(s, v);
        } catch (err) {
          this.ctx.log.error({ stream: s.key, err: (err as Error).message }, 'DASH disabled for this stream');
          return;
        }
        out.onPublish();
      },
      onFrame: (_s, f) => out?.onFrame(f),
      onUnpublish: () => out?.onUnpublish(),
    });
  }

  /**
   * ABR ladder (abr-ladder.ts), as the HLS wing does: the source cuts on the
   * grid of its own timeline; a rendition (an engine's output, published
   * while its source is) maps its timestamps onto the source's (its FFmpeg
   * ran with -copyts, and its own jitter correction moved them by
   * `jitter.offsetMs`). Null for any other stream.
   */
  private alignFor(s: LiveSource, v: VhostConfig): DashAlign | null {
    if (!v.transcodes.some((t) => t.enabled && t.abr.enabled)) return null;
    // A rendition first: with `transcode live`, it matches its source's scope too (and is not transcoded again).
    for (const src of this.ctx.sources.all()) {
      if (src === s || !src.active || src.app !== s.app || this.ctx.vhost(src.vhost)?.name !== v.name) continue;
      const ladder = abrLadderOf(v, src.vhost, src.app, src.stream);
      if (!ladder?.renditions.some((r) => r.stream === s.stream && this.ctx.vhost(r.vhost)?.name === v.name)) continue;
      return { offsetMs: () => s.jitter.offsetMs };
    }
    const own = abrLadderOf(v, s.vhost, s.app, s.stream);
    return own && own.renditions.length > 0 ? { offsetMs: () => 0 } : null;
  }

  /** The DASH output of this stream on this vhost (found by name, the vhost as either side spells it). */
  private streamOf(vhostName: string, app: string, stream: string): DashStream | undefined {
    for (const d of this.streams.values()) if (d.app === app && d.stream === stream && this.ctx.vhost(d.vhost)?.name === vhostName) return d;
    return undefined;
  }

  /**
   * `<mpd>_abr.mpd` next to an ABR ladder source's MPD, made from memory: one
   * video AdaptationSet with a Representation per member that has segments
   * (the source first with `abr.source` on), and the source's audio (or the
   * first member's that has audio). Rendered again only when a member wrote a
   * segment (every player polls it): one Buffer for all requests in between.
   * Null when the path is no ladder's; an empty body when no rung has a segment yet.
   */
  private abrMpd(abs: string): { body: MemoryBody | null } | null {
    const sourceAbs = `${abs.slice(0, -'_abr.mpd'.length)}.mpd`;
    let src: DashStream | undefined;
    for (const d of this.streams.values()) if (d.mpdAbs === sourceAbs) src = d;
    const v = src ? this.ctx.vhost(src.vhost) : null;
    const ladder = src && v ? abrLadderOf(v, src.vhost, src.app, src.stream) : null;
    if (!src || !v || !ladder || src.clockEpochMs === 0) {
      this.abrCache.delete(abs);
      return null;
    }
    const members = [...(ladder.includeSource ? [src] : []), ...ladder.renditions.map((r) => this.streamOf(v.name, src.app, r.stream))].filter((m): m is DashStream => m !== undefined);
    let version = `${src.clockEpochMs}`;
    for (const m of members) version += `|${m.stream}:${m.segmentsWritten}:${m.mpd === null ? 0 : 1}`;
    const cached = this.abrCache.get(abs);
    // A reload gives the stream a new cfg object (timeshift, update period): rendered again too.
    if (cached?.version === version && cached.cfg === src.cfg) return cached;
    const made = { version, cfg: src.cfg, body: this.renderAbrMpd(src, members) };
    this.abrCache.set(abs, made);
    return made;
  }

  private renderAbrMpd(src: DashStream, members: DashStream[]): MemoryBody | null {
    const dir = posix.dirname(src.mpdAbs);
    const track = (m: DashStream, kind: 'video' | 'audio'): DashLadderTrack | null => m.ladderTrack(kind, `${m.stream}-${kind}`, posix.relative(dir, m.mediaDir));
    const video = members.map((m) => track(m, 'video')).filter((t): t is DashLadderTrack => t !== null);
    let audio = track(src, 'audio');
    for (const m of members) audio ??= track(m, 'audio');
    if (video.length === 0) return null;
    const all = audio ? [...video, audio] : video;
    const windowSeconds = Math.min(...all.map((t) => t.seconds));
    const maxSeg = Math.max(src.cfg.fragment, ...all.map((t) => t.maxSegment));
    const text = writeLadderMpd({
      availabilityStartTime: new Date(src.clockEpochMs),
      publishTime: new Date(),
      minimumUpdatePeriod: src.cfg.updatePeriod,
      timeShiftBufferDepth: Math.min(src.cfg.timeshift, windowSeconds),
      minBufferTime: Math.min(src.cfg.fragment, 4),
      maxSegmentDuration: maxSeg,
      suggestedPresentationDelay: Math.min(maxSeg * 2, windowSeconds),
      video: video.map((t) => t.rep),
      audio: audio ? [audio.rep] : [],
    });
    return new MemoryBody(Buffer.from(text), 'application/dash+xml', livePlaylistCacheControl(src.cfg.fragment));
  }

  private routeAbrMpd(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): boolean {
    for (const prefix of this.rootsNow().prefixes) {
      const mpd = this.abrMpd(prefix + raw);
      if (!mpd) continue;
      if (this.refusedOnGuardedVhost(req, res, url)) return true;
      if (mpd.body === null) {
        // The ladder exists but no rung has a segment yet.
        res.writeHead(404, { ...corsHeaders(req, this.ctx.config.httpServer.crossdomain), 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Not Found');
        return true;
      }
      mpd.body.send(req, res, this.ctx.config.httpServer.crossdomain);
      return true;
    }
    return false;
  }

  private streamFor(s: LiveSource, v: VhostConfig): DashStream {
    let d = this.streams.get(s.key);
    if (d) {
      d.cfg = v.dash;
      return d;
    }
    d = new DashStream(s.vhost, s.app, s.stream, v.dash, this.store, this.ctx.log.child({ stream: streamUrl(s.vhost, s.app, s.stream) }), {
      set: (abs, body) => this.bodies.set(abs, body),
      delete: (abs, body) => {
        if (this.bodies.get(abs) === body) this.bodies.delete(abs);
      },
    });
    this.streams.set(s.key, d);
    this.byMpd.set(d.mpdAbs, d);
    return d;
  }

  /** dash_path of every vhost with DASH on, and the same resolved (for exact-path lookups), made once per config. */
  private rootsNow(): { roots: string[]; prefixes: string[] } {
    const config = this.ctx.config;
    if (this.rootsCache?.config === config) return this.rootsCache;
    const set = new Set<string>();
    for (const v of config.vhosts) if (v.enabled && v.dash.enabled) set.add(v.dash.path);
    const roots = [...set];
    this.rootsCache = { config, roots, prefixes: roots.map((r) => resolve(r)).map((r) => (r === '/' ? '' : r)) };
    return this.rootsCache;
  }

  /** The MPD, an init or one of the newest segments from memory: an exact match of a file we wrote (no decoding or jail needed). */
  private routeMemory(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const u = req.url ?? '/';
    const q = u.indexOf('?');
    const raw = q < 0 ? u : u.slice(0, q);
    if (raw.charCodeAt(0) !== 47) return false;
    // A guarded vhost (JWT): every DASH file, from memory or disk, goes through the sessions, before any other route.
    if (DASH_FILE.test(raw) && this.streams.size > 0 && this.ctx.admission.guardsEveryPlay(requestVhost(req, url))) return this.routeGuarded(req, res, url, raw);
    // The ladder's MPD exists only in memory: a Range request (FFmpeg sends `bytes=0-`) gets the whole of it (a 200 may answer one).
    if (raw.endsWith('_abr.mpd') && this.routeAbrMpd(req, res, url, raw)) return true;
    if (this.bodies.size === 0 || req.headers.range !== undefined) return false;
    for (const prefix of this.rootsNow().prefixes) {
      const body = this.bodies.get(prefix + raw);
      if (body) {
        body.send(req, res, this.ctx.config.httpServer.crossdomain);
        return true;
      }
    }
    return false;
  }

  /**
   * A DASH file on a guarded vhost. The MPD of a live stream: without
   * `dash_ctx`, a redirect adding a new session id; with one, the session
   * (admitted on its first request) gets its own MPD. A segment or init:
   * served only with the id of a live session of its stream. Else 403.
   */
  private routeGuarded(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): boolean {
    const path = safeRequestPath(raw);
    if (path === null) return false;
    const vhost = this.ctx.vhost(requestVhost(req, url))?.name;
    const cors = corsHeaders(req, this.ctx.config.httpServer.crossdomain);
    const { prefixes, roots } = this.rootsNow();
    if (path.endsWith('.mpd')) {
      for (const prefix of prefixes) {
        const d = this.byMpd.get(prefix + path);
        if (d && d.vhost === vhost) return this.serveSessionMpd(req, res, url, d, path, cors);
      }
      return this.refuse(req, res, path, null, 'no live DASH stream');
    }
    const id = url.searchParams.get('dash_ctx');
    const viewer = id ? this.sessions.viewer(id) : undefined;
    const abs = viewer && viewer.vhost === vhost ? prefixes.map((p) => p + path).find((a) => viewer.covers(a)) : undefined;
    if (!viewer || !abs) return this.refuse(req, res, path, id, viewer ? 'not a file of this session\'s stream' : 'no player session');
    viewer.lastSeen = Date.now();
    const body = req.headers.range === undefined ? this.bodies.get(abs) : undefined;
    if (body) {
      viewer.bytesSent += body.data.length;
      body.send(req, res, this.ctx.config.httpServer.crossdomain);
      return true;
    }
    void serveStaticFile(roots, req, res, url, path, cors).then((served) => {
      if (!served) notFound(res, cors);
    });
    return true;
  }

  private serveSessionMpd(req: IncomingMessage, res: ServerResponse, url: URL, d: DashStream, path: string, cors: Record<string, string>): true {
    const id = url.searchParams.get('dash_ctx');
    if (!id) {
      // A new id per player, never cached (on a JWT vhost a shared answer would hand one player's admission to the next).
      const rest = url.search.length > 1 ? `&${url.search.slice(1)}` : '';
      const location = `${posix.basename(path)}?dash_ctx=${this.sessions.newId()}${rest}`;
      res.writeHead(302, { ...cors, Location: location, 'Cache-Control': 'private, no-store', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0' });
      res.end();
      return true;
    }
    if (!/^[0-9a-zA-Z_-]{1,64}$/.test(id)) {
      notFound(res, cors);
      return true;
    }
    const param = new URLSearchParams(url.search);
    param.delete('dash_ctx');
    const q = param.toString();
    // The player refreshes its MPD every dash_update_period: the session outlives two of them (and two windows).
    const timeoutMs = 2000 * Math.max(d.cfg.updatePeriod, d.cfg.fragment * d.cfg.windowSize, 5);
    const r = this.sessions.admit(id, req, { vhost: d.vhost, app: d.app, stream: d.stream, param: q ? `?${q}` : '', mediaDir: d.mediaDir, timeoutMs });
    const after = (l: Awaited<typeof r>): void => {
      if (res.destroyed) return;
      if (l.kind === 'eof') return notFound(res, cors);
      if (l.kind === 'denied') {
        this.ctx.log.warn({ cid: id, path: clip(path), reason: clip(l.reason) }, 'DASH play denied');
        res.writeHead(l.status, { ...cors, 'Content-Type': 'text/plain; charset=utf-8', ...(l.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {}) });
        res.end(l.status === 401 ? 'Unauthorized' : 'Forbidden');
        return;
      }
      // A session opens its own stream only (a token for one stream must not hand out another's segments).
      if (l.viewer.mediaDir !== d.mediaDir) return void this.refuse(req, res, path, id, 'session of another stream');
      const body = this.bodies.get(d.mpdAbs);
      if (!body) return notFound(res, cors);
      const own = l.viewer.mpdFor(body, (text) => addQueryToMpdTemplates(text, 'dash_ctx', id));
      l.viewer.bytesSent += own.data.length;
      own.send(req, res, this.ctx.config.httpServer.crossdomain);
    };
    if (r instanceof Promise) void r.then(after);
    else after(r);
    return true;
  }

  private refuse(req: IncomingMessage, res: ServerResponse, path: string, id: string | null, reason: string): true {
    this.ctx.log.warn({ path: clip(path), dashCtx: id ? clip(id, 64) : null, reason }, 'DASH media refused');
    res.writeHead(403, { ...corsHeaders(req, this.ctx.config.httpServer.crossdomain), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Forbidden');
    return true;
  }

  private async routeDisk(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const { roots } = this.rootsNow();
    if (roots.length === 0) return false;
    const raw = (req.url ?? '/').split('?')[0]!;
    const path = safeRequestPath(raw.startsWith('/') ? raw : `/${raw}`);
    if (path === null) return false;
    if (/\.(mpd|m4s|mp4)$/.test(path) && this.refusedOnGuardedVhost(req, res, url)) return true;
    return serveStaticFile(roots, req, res, url, path, corsHeaders(req, this.ctx.config.httpServer.crossdomain));
  }

  /** A DASH file on a guarded vhost (JWT) that the sessions' route did not take (no live stream at all): refused. */
  private refusedOnGuardedVhost(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (!this.ctx.admission.guardsEveryPlay(requestVhost(req, url))) return false;
    res.writeHead(403, { ...corsHeaders(req, this.ctx.config.httpServer.crossdomain), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Forbidden');
    return true;
  }

  private async stop(): Promise<void> {
    this.sessions.stop();
    const waits: Promise<void>[] = [];
    for (const d of this.streams.values()) {
      d.stopTimers();
      // As for HLS, SRS deletes the files at shutdown when dash_dispose is set.
      waits.push(d.cfg.dispose > 0 ? d.dispose('server stopping') : d.io.idle());
    }
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 3000).unref())]);
  }
}

/** What DASH writes: MPDs, init segments, media segments. */
const DASH_FILE = /\.(mpd|m4s|mp4)$/;

export const dashFeature: Feature = {
  name: 'dash',
  install(ctx) {
    return new DashService(ctx).install();
  },
};
