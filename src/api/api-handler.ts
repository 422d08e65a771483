/**
 * SRS's HTTP API (contract §2): the request handler shared by the API port,
 * the HTTPS API port, the exporter port and (when they share a port) the HTTP
 * server. Routes registered by features in `ctx.routes.api` (e.g. /rtc/v1/)
 * are asked first. Application errors are HTTP 200 with `{"code":N}`; unknown
 * paths are a text 404; nothing a client sends can crash it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerContext } from '../core/server-context.js';
import type { VhostConfig } from '../config/vhost-config.js';
import { corsHeaders } from '../core/http-cors.js';
import type { ServerStats } from '../ops/stats/server-stats.js';
import type { ServerMetrics } from '../ops/exporter/metrics.js';
import type { ProcessRegistry } from '../ffmpeg/child-supervisor.js';
import type { ForwardService } from '../outputs/forward/forward-feature.js';
import { VERSION } from '../version.js';
import { srsJson } from './srs-json.js';
import { authorize, changesState, needsAuth, needsRtcBearer } from './api-auth.js';
import { clientObject, meminfoData, rusagesData, selfProcData, streamObject, summariesData, systemProcData, vhostObject } from './api-objects.js';
import { serveWeb } from './web-assets.js';
import { versionsData } from './srs-api-level.js';
import { randomId } from '../log/logger.js';
import type { DvrControl } from '../outputs/dvr/dvr-feature.js';
import type { RtcFeature } from '../servers/webrtc/webrtc-feature.js';
import { NO_RELAY } from '../servers/webrtc/rtc-server.js';
import { dvrsApi } from './api-dvrs.js';
import { clip } from '../log/clip.js';

const ERROR_SYSTEM_API_CALLBACK = 4058;
const ERROR_RTMP_NO_VHOST = 2014;
const ERROR_STREAM_NOT_FOUND = 2048;
const ERROR_CLIENT_NOT_FOUND = 2049;
const ERROR_CONFIG_RAW = 1060;
const ERROR_CONFIG_RAW_DISABLED = 1061;
const ERROR_EXPORTER_DISABLED = 1090;

/** What the API shows, handed to it by the composition root. */
export interface ApiDeps {
  stats: ServerStats;
  /** null when the exporter is off (`/metrics` then answers SRS's "exporter disabled"). */
  metrics: ServerMetrics | null;
  /** The supervised child processes (exec), for `/api/v1/processes`. */
  processes: ProcessRegistry;
  /** The forwards (`GET /api/v1/forwards`, a Sluice addition); absent: an empty list. */
  forwards?: ForwardService;
  /** Recordings: /api/v1/dvrs (api-dvrs.ts). */
  dvr?: DvrControl;
  /** WebRTC's counters in /api/v1/summaries; absent: zeros. */
  rtc?: Pick<RtcFeature, 'relayed'>;
}

export interface ApiHandlerOptions {
  /** Answer `GET /` with the API root (only when the API has its own port). */
  ownPort: boolean;
  /** Ask ctx.routes.api first (false on the HTTP server, which asks its own routes). */
  featureRoutes: boolean;
}

export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => void;

const API_INDEX_URLS = {
  versions: 'the version of SRS',
  summaries: 'the summary(pid, argv, pwd, cpu, mem) of SRS',
  rusages: 'the rusage of SRS',
  self_proc_stats: 'the self process stats',
  system_proc_stats: 'the system process stats',
  meminfos: 'the meminfo of system',
  authors: 'the license, copyright, authors and contributors',
  features: 'the supported features of SRS',
  requests: 'the request itself, for http debug',
  vhosts: 'manage all vhosts or specified vhost',
  streams: 'manage all streams or specified stream',
  clients: 'manage all clients or specified client, default query top 10 clients',
  raw: 'raw api for srs, support CUID srs for instance the config',
  processes: 'the supervised child processes (exec): command, pid, state, restarts, uptime',
  clusters: 'origin cluster server API',
  forwards: 'the forwards of published streams (Sluice)',
  dvrs: 'recordings: list, start and stop (Sluice)',
  perf: 'System performance stat',
  tcmalloc: 'See gperf tcmalloc stats',
};

interface ReloadState {
  rid: string;
  at: number;
  config: unknown;
}

export function createApiHandler(ctx: ServerContext, deps: ApiDeps, options: ApiHandlerOptions): ApiHandler {
  const { stats } = deps;
  const identity = ctx.identity;
  let reload: ReloadState | null = null;

  return (req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      ctx.log.error({ err, url: clip(req.url ?? '') }, 'API request failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Internal Server Error');
      } else res.destroy();
    }
  };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const cors = corsHeaders(req, ctx.config.httpServer.crossdomain);
    if (req.method === 'OPTIONS') {
      res.writeHead(ctx.config.httpServer.crossdomain ? 200 : 405, { ...cors, 'Content-Length': '0' });
      res.end();
      return;
    }
    const raw = req.url ?? '/';
    let url: URL;
    try {
      url = new URL(raw, 'http://localhost');
    } catch {
      return text(res, 400, 'Bad Request', cors);
    }
    if (raw.includes('..')) return text(res, 400, 'Bad Request', cors);
    if (needsRtcBearer(ctx.config.httpApi.auth, url.pathname)) {
      const auth = authorize(ctx.config.httpApi.auth, req, changesState(req.method ?? 'GET', url), 'bearer');
      if (!auth.ok) {
        res.writeHead(auth.status, { ...cors, 'Content-Length': '0', ...(auth.challenge ? { 'WWW-Authenticate': 'Bearer' } : {}) });
        res.end();
        return;
      }
    }
    if (options.featureRoutes) for (const route of ctx.routes.api) if (route(req, res, url)) return;

    // JSONP (SRS): ?callback=name wraps the reply, &method= overrides the method.
    const callback = url.searchParams.get('callback');
    if (callback !== null && !/^[A-Za-z0-9_.-]*$/.test(callback)) {
      return send(res, 200, { code: ERROR_SYSTEM_API_CALLBACK }, cors, null);
    }
    const override = callback !== null ? url.searchParams.get('method')?.toUpperCase() : undefined;
    const method = override && ['GET', 'PUT', 'POST', 'DELETE'].includes(override) ? override : (req.method ?? 'GET');
    const path = url.pathname;

    if (needsAuth(path)) {
      const auth = authorize(ctx.config.httpApi.auth, req, changesState(method, url));
      if (!auth.ok) {
        const h: Record<string, string> = { ...cors, 'Content-Length': '0' };
        if (auth.challenge) h['WWW-Authenticate'] = 'Basic realm="Sluice"';
        res.writeHead(auth.status, h);
        res.end();
        return;
      }
    }
    const reply = (body: Record<string, unknown>): void => send(res, 200, body, cors, callback);
    const envelope = (): Record<string, unknown> => ({ code: 0, server: identity.serverId, service: identity.serviceId, pid: String(process.pid) });

    if (path === '/' && options.ownPort) {
      return reply({
        ...envelope(),
        urls: { api: 'the api root', rtc: { v1: { play: 'Play stream', publish: 'Publish stream', nack: 'Simulate the NACK' } } },
      });
    }
    if (path === '/metrics') return metrics(res, cors);
    if (serveWeb(req, res, url, cors, null)) return;
    if (path === '/api') return redirect(res, '/api/', url.search, cors);
    if (path === '/api/') return reply({ ...envelope(), urls: { v1: 'the api version 1.0' } });
    if (!path.startsWith('/api/v1')) return text(res, 404, 'Not Found', cors);

    switch (path) {
      case '/api/v1':
        return redirect(res, '/api/v1/', url.search, cors);
      case '/api/v1/versions':
        return reply({ ...envelope(), data: versionsData() });
      case '/api/v1/summaries':
        stats.refresh();
        return reply({ ...envelope(), data: summariesData(ctx, stats, identity.startedAt, deps.rtc?.relayed() ?? NO_RELAY) });
      case '/api/v1/rusages':
        return reply({ ...envelope(), data: rusagesData() });
      case '/api/v1/self_proc_stats':
        return reply({ ...envelope(), data: selfProcData(stats) });
      case '/api/v1/system_proc_stats':
        return reply({ ...envelope(), data: systemProcData(stats) });
      case '/api/v1/meminfos':
        return reply({ ...envelope(), data: meminfoData(stats) });
      case '/api/v1/authors':
        return reply({ ...envelope(), data: { license: 'MIT', contributors: 'The Sluice authors. API compatible with SRS (https://github.com/ossrs/srs).' } });
      case '/api/v1/features':
        return reply({ ...envelope(), data: featuresData(ctx) });
      case '/api/v1/tests/requests':
        return reply({
          ...envelope(),
          data: { uri: req.url, path, METHOD: method, headers: { sigature: 'Sluice', version: VERSION, link: 'https://github.com/ossrs/srs', time: Date.now() } },
        });
      case '/api/v1/tests/errors':
        return reply({ code: 100 });
      case '/api/v1/tests/redirects':
        res.writeHead(301, { ...cors, Location: '/api/v1/tests/errors', 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Redirect to /api/v1/tests/errors');
        return;
      case '/api/v1/vhosts':
      case '/api/v1/streams':
      case '/api/v1/clients':
        return redirect(res, `${path}/`, url.search, cors);
      case '/api/v1/forwards':
      case '/api/v1/forwards/': {
        const { start, count } = paging(url);
        const all = deps.forwards?.list() ?? [];
        return reply({ ...envelope(), total: all.length, forwards: all.slice(start, start + count) });
      }
      case '/api/v1/raw':
        return reply(rawApi(url, envelope));
      case '/api/v1/clusters':
        return reply(clusters(url, req));
      case '/api/v1/processes':
        return reply({ ...envelope(), processes: deps.processes.list() });
      case '/api/v1/dvrs':
        void dvrsApi(deps.dvr, req, method, url).then(
          (body) => reply(body.code === 0 ? { ...envelope(), ...body } : body),
          () => res.destroy(),
        );
        return;
      default:
        break;
    }
    const m = /^\/api\/v1\/(vhosts|streams|clients)\/([^/]*)$/.exec(path);
    if (m) {
      const [, kind, id] = m as unknown as [string, 'vhosts' | 'streams' | 'clients', string];
      if (method !== 'GET' && !(kind === 'clients' && method === 'DELETE' && id)) return text(res, 405, 'Method Not Allowed', cors);
      stats.refresh();
      if (kind === 'vhosts') return reply(vhosts(id, envelope));
      if (kind === 'streams') return reply(streams(id, url, envelope));
      if (method === 'DELETE') return reply(kick(id, envelope));
      return reply(clients(id, url, envelope));
    }
    // Any other /api/v1/* (including the advertised but unmounted perf and requests): the index.
    return reply({
      ...envelope(),
      urls: API_INDEX_URLS,
      tests: {
        requests: 'show the request info',
        errors: 'always return an error 100',
        redirects: 'always redirect to /api/v1/test/errors',
        '[vhost]': 'http vhost for http://error.srs.com:1985/api/v1/tests/errors',
      },
    });
  }

  function vhosts(id: string, envelope: () => Record<string, unknown>): Record<string, unknown> {
    if (id) {
      const v = stats.vhostById(id);
      if (!v) return { code: ERROR_RTMP_NO_VHOST };
      return { ...envelope(), vhost: vhostObject(ctx, stats, v) };
    }
    const list = [...stats.vhosts.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    return { ...envelope(), vhosts: list.map((v) => vhostObject(ctx, stats, v)) };
  }

  function streams(id: string, url: URL, envelope: () => Record<string, unknown>): Record<string, unknown> {
    if (id) {
      const s = stats.streamById(id);
      if (!s) return { code: ERROR_STREAM_NOT_FOUND };
      return { ...envelope(), stream: streamObject(stats, s) };
    }
    const { start, count } = paging(url);
    const q = filterOf(url);
    const all = q === '' ? stats.streamList() : stats.streamList().filter((s) => matches(q, s.id, s.vhost, `/${s.app}/${s.stream}`));
    // `total` (after the `q` filter) is Sluice's addition: the console pages through any number of streams.
    return { ...envelope(), total: all.length, streams: all.slice(start, start + count).map((s) => streamObject(stats, s)) };
  }

  function clients(id: string, url: URL, envelope: () => Record<string, unknown>): Record<string, unknown> {
    if (id) {
      const c = stats.clients.get(id);
      if (!c) return { code: ERROR_CLIENT_NOT_FOUND };
      return { ...envelope(), client: clientObject(stats, c) };
    }
    const { start, count } = paging(url);
    const q = filterOf(url);
    const all = q === ''
      ? stats.clientList()
      : stats.clientList().filter((c) => matches(q, c.id, c.session.ip, c.session.type, c.session.vhost, `/${c.session.app}/${c.session.stream}`));
    return { ...envelope(), total: all.length, clients: all.slice(start, start + count).map((c) => clientObject(stats, c)) };
  }

  function kick(id: string, envelope: () => Record<string, unknown>): Record<string, unknown> {
    const session = ctx.clients.get(id);
    if (!session) return stats.clients.has(id) ? { code: 400 } : { code: ERROR_CLIENT_NOT_FOUND };
    ctx.log.info({ cid: id, ip: session.ip, type: session.type }, 'client kicked by the HTTP API');
    // Asynchronously, as SRS expires the connection: the reply goes out first.
    setImmediate(() => session.close('kicked by HTTP API'));
    return envelope();
  }

  function rawApi(url: URL, envelope: () => Record<string, unknown>): Record<string, unknown> {
    const api = ctx.config.httpApi;
    const rpc = url.searchParams.get('rpc') ?? '';
    if (rpc === 'raw') {
      return {
        code: 0,
        http_api: {
          enabled: api.enabled,
          listen: `${api.listen.host ?? ''}${api.listen.host ? ':' : ''}${api.listen.port}`,
          crossdomain: api.crossdomain,
          raw_api: { enabled: api.rawApi.enabled, allow_reload: api.rawApi.allowReload, allow_query: false, allow_update: false },
        },
      };
    }
    if (!api.rawApi.enabled) return { code: ERROR_CONFIG_RAW_DISABLED };
    if (rpc === 'reload') {
      if (!api.rawApi.allowReload) return { code: ERROR_CONFIG_RAW_DISABLED };
      // The CLI owns reload (it re-reads the file on SIGHUP); an embedder without a handler gets an error, not a dead process.
      if (process.listenerCount('SIGHUP') === 0) return { code: ERROR_CONFIG_RAW };
      reload = { rid: randomId(7), at: Date.now(), config: ctx.config };
      process.kill(process.pid, 'SIGHUP');
      return { code: 0 };
    }
    if (rpc === 'reload-fetch') {
      if (!reload) return { ...envelope(), data: { err: 0, msg: '', state: 0, rid: '' } };
      const applied = ctx.config !== reload.config;
      const waited = Date.now() - reload.at > 2000;
      const data = applied
        ? { err: 0, msg: 'Success', state: 90, rid: reload.rid }
        : waited
          ? { err: 1023, msg: 'reload refused, see the server log', state: 10, rid: reload.rid }
          : { err: 0, msg: 'reloading', state: 10, rid: reload.rid };
      return { ...envelope(), data };
    }
    return { code: ERROR_CONFIG_RAW };
  }

  function clusters(url: URL, req: IncomingMessage): Record<string, unknown> {
    const q = (k: string): string => url.searchParams.get(k) ?? '';
    const vhost = q('vhost') || '__defaultVhost__';
    const query = { ip: q('ip'), vhost, app: q('app'), stream: q('stream') };
    const src = ctx.sources.get(vhost, query.app, query.stream) ?? ctx.sources.get('__defaultVhost__', query.app, query.stream);
    if (!src?.active) return { code: 0, data: { query, origin: null } };
    // As SRS: the listen host unless it is a loopback, else the host the asker reached us at (`coworker`).
    const listen = ctx.config.listen[0];
    const listenHost = listen?.host && !/^(0\.0\.0\.0|::|127\.0\.0\.1|::1|localhost)$/.test(listen.host) ? listen.host : '';
    const coworkerHost = q('coworker').replace(/^\[([^\]]+)\].*$/, '$1').replace(/:\d+$/, '');
    const host = listenHost || coworkerHost || req.socket.localAddress?.replace(/^::ffff:/, '') || '127.0.0.1';
    const rtmpPort = listen?.port ?? 1935;
    const api = `${host}:${ctx.config.httpApi.listen.port}`;
    // http_port: Sluice's addition, so that a Sluice coworker can send HTTP players here too.
    const http = ctx.config.httpServer.enabled ? { http_port: ctx.config.httpServer.listen.port } : {};
    return { code: 0, data: { query, origin: { ip: host, port: rtmpPort, vhost, api, routers: [api], ...http } } };
  }

  function metrics(res: ServerResponse, cors: Record<string, string>): void {
    const m = deps.metrics;
    if (!m) return send(res, 200, { code: ERROR_EXPORTER_DISABLED }, cors, null);
    m.text().then(
      (body) => {
        res.writeHead(200, { ...cors, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      },
      (err: Error) => text(res, 500, err.message, cors),
    );
  }
}

/**
 * SRS's features object: true only for what this server does with this
 * config. Features Sluice does not have (HDS, SO_SNDBUF tuning, merged read)
 * are false whatever the config asks.
 */
function featuresData(ctx: ServerContext): Record<string, unknown> {
  const cfg = ctx.config;
  const any = (f: (v: VhostConfig) => boolean): boolean => cfg.vhosts.some((v) => v.enabled && f(v));
  return {
    options: '',
    options2: '',
    build: `Sluice ${VERSION}`,
    build2: `Node.js ${process.version}`,
    features: {
      // HTTPS API listener and https:// callbacks.
      ssl: true,
      hls: any((v) => v.hls.enabled),
      hds: false,
      callback: any((v) => v.httpHooks.enabled),
      api: true,
      httpd: cfg.httpServer.enabled,
      dvr: any((v) => v.dvr.enabled),
      transcode: any((v) => v.transcodes.some((t) => t.enabled && t.engines.some((e) => e.enabled))),
      ingest: any((v) => v.ingests.some((i) => i.enabled)),
      stat: true,
      caster: cfg.streamCasters.some((c) => c.enabled && (c.caster === 'mpegts_over_udp' || c.caster === 'flv')),
      // Merged writes (mw_latency) of several messages in one socket write.
      complex_send: true,
      tcp_nodelay: any((v) => v.tcpNodelay),
      so_sendbuf: false,
      mr: false,
    },
  };
}

/** `q=`: a case-insensitive substring filter on list replies (a Sluice addition), bounded in length. */
function filterOf(url: URL): string {
  return (url.searchParams.get('q') ?? '').slice(0, 200).toLowerCase();
}

function matches(q: string, ...fields: string[]): boolean {
  return fields.some((f) => f.toLowerCase().includes(q));
}

/** SRS paging: start = max(0, start), count = max(10, count); non-numbers are 0. */
export function paging(url: URL): { start: number; count: number } {
  const num = (v: string | null): number => {
    const n = parseInt(v ?? '', 10);
    return Number.isFinite(n) ? n : 0;
  };
  return { start: Math.max(0, num(url.searchParams.get('start'))), count: Math.max(10, num(url.searchParams.get('count'))) };
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>, cors: Record<string, string>, callback: string | null): void {
  const json = srsJson(body);
  const payload = callback ? `${callback}(${json})` : json;
  res.writeHead(status, {
    ...cors,
    Server: `Sluice/${VERSION}`,
    'Content-Type': callback ? 'text/javascript' : 'application/json',
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function text(res: ServerResponse, status: number, body: string, cors: Record<string, string>): void {
  res.writeHead(status, { ...cors, Server: `Sluice/${VERSION}`, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function redirect(res: ServerResponse, to: string, search: string, cors: Record<string, string>): void {
  const location = `${to}${search}`;
  res.writeHead(302, { ...cors, Location: location, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`Redirect to ${location}`);
}

