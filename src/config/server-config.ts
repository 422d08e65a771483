// The typed view of the whole config that the rest of the server reads. Nothing
// outside src/config walks the raw directive tree. Kinds, defaults and env rules
// come from the schema (schema.ts); env is passed in explicitly.

import { DEFAULT_CONFIG_TEXT } from './default-config-text.js';
import { endpointEquals, parseEndpoint, type Endpoint } from './endpoint.js';
import { transformLegacy } from './legacy-transform.js';
import {
  ConfigError,
  findChildren,
  parseConfigFile,
  parseConfigTree,
  type ConfigDirective,
  type IncludeReader,
} from './parser.js';
import { ROOT, type RootSchema } from './schema.js';
import type { ChildrenOf } from './schema-types.js';
import { Scope } from './scope.js';
import { validateConfig } from './validate.js';
import { inertDirectives } from './inert.js';
import { buildTlsConfig, type TlsConfig } from './tls-config.js';
import { envLookup, type Env } from './values.js';
import { buildVhostConfig, DEFAULT_VHOST, type VhostConfig } from './vhost-config.js';

export type { Env } from './values.js';
export * from './vhost-config.js';
export type { TlsConfig } from './tls-config.js';

/** pino level names. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface HttpsConfig {
  enabled: boolean;
  listen: Endpoint;
  key: string;
  cert: string;
}

export interface HttpApiConfig {
  enabled: boolean;
  listen: Endpoint;
  /** Parsed but dead in SRS: CORS follows httpServer.crossdomain (contract §2.7). */
  crossdomain: boolean;
  /** token / readonlyToken: bearer tokens (Sluice addition; '' = none). */
  /** `type` '' = Basic and Bearer both (Sluice); 'basic' / 'bearer' = that scheme only (SRS 7). */
  auth: { enabled: boolean; type: '' | 'basic' | 'bearer'; username: string; password: string; token: string; readonlyToken: string; rtcBearer: boolean };
  https: HttpsConfig;
  /** allowQuery/allowUpdate are always false (removed from SRS). */
  rawApi: { enabled: boolean; allowReload: boolean; allowQuery: false; allowUpdate: false };
}

export interface HttpServerConfig {
  enabled: boolean;
  listen: Endpoint;
  dir: string;
  crossdomain: boolean;
  https: HttpsConfig;
  /** `https.http2` (Sluice extension): h2 next to HTTP/1.1 on the HTTPS port. */
  http2: boolean;
}

export interface RtcServerConfig {
  enabled: boolean;
  /** UDP port. */
  listen: number;
  tcp: { enabled: boolean; listen: number };
  protocol: 'udp' | 'tcp' | 'all';
  /** Resolved candidate (`$NAME` read from env; unset → `*`). */
  candidate: string;
  useAutoDetectNetworkIp: boolean;
  ipFamily: 'ipv4' | 'ipv6' | 'all';
  apiAsCandidates: boolean;
  resolveApiDomain: boolean;
  keepApiDomain: boolean;
  ecdsa: boolean;
  encrypt: boolean;
  reuseport: number;
  mergeNalus: boolean;
  blackHole: { enabled: boolean; addr: string };
  /**
   * Sluice extension: the UDP port is held by a JavaScript gateway so that a
   * session follows its client to a new address (NAT rebinding, network
   * switch). Off: libdatachannel owns the port (fewer CPU per packet, but a
   * client that changes address loses its session).
   */
  followClientAddress: boolean;
}

export interface SrtServerConfig {
  enabled: boolean;
  /** UDP port. */
  listen: number;
  maxbw: number;
  mss: number;
  /** ms */
  connectTimeout: number;
  /** ms */
  peerIdleTimeout: number;
  defaultApp: string;
  /** Stands for an empty stream id. */
  defaultStreamId: string;
  /** What a plain stream id (no `#!::`) does. */
  defaultMode: 'publish' | 'play';
  /** ms */
  peerLatency: number;
  /** ms */
  recvLatency: number;
  /** ms */
  latency: number;
  tsbpdMode: boolean;
  tlpktDrop: boolean;
  sendBuf: number;
  recvBuf: number;
  payloadSize: number;
  passphrase: string;
  pbKeyLen: number;
  seiFilter: boolean;
}

export interface ExporterConfig {
  enabled: boolean;
  listen: Endpoint;
  label: string;
  tag: string;
}

export interface HeartbeatConfig {
  enabled: boolean;
  /** Seconds (integer). */
  interval: number;
  url: string;
  deviceId: string;
  summaries: boolean;
  ports: boolean;
}

export interface StatsConfig {
  enabled: boolean;
  network: number;
  disk: string[];
}

export interface CircuitBreakerConfig {
  enabled: boolean;
  highThreshold: number;
  highPulse: number;
  criticalThreshold: number;
  criticalPulse: number;
  dyingThreshold: number;
  dyingPulse: number;
}

export interface StreamCasterConfig {
  enabled: boolean;
  caster: string;
  output: string;
  listen: number;
  sip: { enabled: boolean; listen: number; timeout: number; reinvite: number; candidate: string };
}

export interface ServerConfig {
  /** The config file, or null for env-only mode / the built-in default. */
  readonly file: string | null;
  readonly envOnly: boolean;
  /** Non-fatal findings as `file:line: message` (legacy conversions, duplicates, ...). */
  readonly warnings: readonly string[];
  /** Directives set but not acted on (schema 'not-yet' / 'ignored'), one `file:line: message` each; `-t` and startup print them. */
  readonly inert: readonly string[];

  listen: Endpoint[];
  maxConnections: number;
  /** RTMP out chunk size (env SRS_VHOST_CHUNK_SIZE, an SRS quirk). */
  chunkSize: number;
  pid: string;
  /** Configured id, or undefined (the server generates and persists one). */
  serverId: string | undefined;
  daemon: boolean;
  logLevel: LogLevel;
  logTank: 'console' | 'file';
  logFile: string;
  utcTime: boolean;
  pithyPrintMs: number;
  ffLogDir: string;
  ffLogLevel: string;
  /** ms */
  graceStartWait: number;
  /** ms */
  graceFinalWait: number;
  forceGraceQuit: boolean;
  workDir: string;
  asprocess: boolean;
  emptyIpOk: boolean;
  inotifyAutoReload: boolean;

  httpApi: HttpApiConfig;
  httpServer: HttpServerConfig;
  /** RTMP over TLS (SRS 7). */
  rtmps: HttpsConfig;
  /** Sluice extension: shared by every TLS listener. */
  tls: TlsConfig;
  rtcServer: RtcServerConfig;
  srtServer: SrtServerConfig;
  exporter: ExporterConfig;
  heartbeat: HeartbeatConfig;
  stats: StatsConfig;
  circuitBreaker: CircuitBreakerConfig;
  streamCasters: StreamCasterConfig[];

  /** Unique vhosts in file order (for duplicates the first block wins). */
  vhosts: VhostConfig[];
  /**
   * SRS lookup: exact name among configured vhosts (enabled or not), else
   * `__defaultVhost__`, else null (caller answers 2014, as for a disabled vhost).
   */
  getVhost(name: string): VhostConfig | null;
}

export interface LoadOptions {
  /** `-e`: ignore any file and configure from env only (SRS_ENV_ONLY has the same effect). */
  envOnly?: boolean;
  /** Reader for included files (tests); default reads the file system. */
  readInclude?: IncludeReader;
  /** Second candidate directory for relative includes; default process.cwd(). */
  cwd?: string;
}

const V1_LEVELS: Readonly<Record<string, LogLevel>> = {
  verbose: 'trace',
  info: 'debug',
  trace: 'info',
  warn: 'warn',
  error: 'error',
};
const V2_LEVELS: ReadonlySet<string> = new Set(['trace', 'debug', 'info', 'warn', 'error']);

type RootScope = Scope<RootSchema>;
type HttpsScope = Scope<ChildrenOf<ChildrenOf<RootSchema['http_api']>['https']>> | Scope<ChildrenOf<RootSchema['rtmps']>>;

function logLevel(root: RootScope): LogLevel {
  const v2 = root.raw('srs_log_level_v2');
  if (v2 !== undefined && V2_LEVELS.has(v2)) return v2 as LogLevel;
  const v1 = root.raw('srs_log_level');
  return (v1 !== undefined ? V1_LEVELS[v1] : undefined) ?? 'info';
}

function authType(t: string): '' | 'basic' | 'bearer' {
  return t === 'basic' || t === 'bearer' ? t : '';
}

function anyPort(port: number): Endpoint {
  return { host: null, port };
}

function listenEndpoints(root: RootScope, envOnly: boolean): Endpoint[] {
  const texts = root.args('listen');
  if (texts.length === 0 && envOnly) return [anyPort(1935)];
  const d = root.directive('listen');
  return texts.map((t) => {
    const r = parseEndpoint(t);
    if (r.ok) return r.endpoint;
    throw d !== undefined ? new ConfigError(d.file, d.line, r.reason) : new ConfigError('SRS_LISTEN', 0, r.reason);
  });
}

function https(s: HttpsScope, listen?: Endpoint): HttpsConfig {
  return {
    enabled: s.get('enabled'),
    listen: s.get('listen', listen),
    key: s.get('key'),
    cert: s.get('cert'),
  };
}

function rtcCandidate(s: Scope<ChildrenOf<RootSchema['rtc_server']>>, env: Env): string {
  const raw = s.get('candidate');
  if (!raw.startsWith('$')) return raw;
  return envLookup(env, [raw.slice(1)]) ?? '*';
}

function oneOf<T extends string>(value: string, allowed: readonly T[], def: T): T {
  return (allowed as readonly string[]).includes(value) ? (value as T) : def;
}

/** Builds the typed view from a transformed, validated tree. */
function buildServerConfig(
  tree: ConfigDirective,
  env: Env,
  info: { file: string | null; envOnly: boolean; warnings: readonly string[]; inert: readonly string[] },
): ServerConfig {
  const root = new Scope(tree, [], env, ROOT.children, tree.file);
  const { envOnly } = info;

  const httpServerScope = root.child('http_server');
  const httpServerListen = httpServerScope.get('listen');
  // http_server.https has the four directives of every https block, plus `http2`.
  const httpServerHttps = https(httpServerScope.child('https') as unknown as HttpsScope);
  const httpServer: HttpServerConfig = {
    enabled: httpServerScope.get('enabled'),
    listen: httpServerListen,
    dir: httpServerScope.get('dir'),
    crossdomain: httpServerScope.get('crossdomain'),
    https: httpServerHttps,
    http2: httpServerScope.child('https').get('http2'),
  };

  const api = root.child('http_api');
  const apiListen = api.get('listen');
  // Sharing the HTTP port with the server also shares the HTTPS port by default (contract §1.1).
  const apiHttpsDefault = endpointEquals(apiListen, httpServerListen) ? anyPort(httpServerHttps.listen.port) : undefined;
  const auth = api.child('auth');
  const rawApi = api.child('raw_api');
  const httpApi: HttpApiConfig = {
    enabled: api.get('enabled'),
    listen: apiListen,
    crossdomain: api.get('crossdomain'),
    auth: {
      enabled: auth.get('enabled'),
      username: auth.get('username'),
      password: auth.get('password'),
      token: auth.get('token'),
      readonlyToken: auth.get('readonly_token'),
      type: authType(auth.get('type')),
      rtcBearer: auth.get('rtc_bearer_enabled'),
    },
    https: https(api.child('https'), apiHttpsDefault),
    rawApi: {
      enabled: rawApi.get('enabled'),
      allowReload: rawApi.get('allow_reload'),
      allowQuery: false,
      allowUpdate: false,
    },
  };

  const rtcS = root.child('rtc_server');
  const rtcTcp = rtcS.child('tcp');
  const blackHole = rtcS.child('black_hole');
  const rtcServer: RtcServerConfig = {
    enabled: rtcS.get('enabled'),
    listen: rtcS.get('listen'),
    tcp: { enabled: rtcTcp.get('enabled'), listen: rtcTcp.get('listen') },
    protocol: oneOf(rtcS.get('protocol'), ['udp', 'tcp', 'all'], 'udp'),
    candidate: rtcCandidate(rtcS, env),
    useAutoDetectNetworkIp: rtcS.get('use_auto_detect_network_ip'),
    ipFamily: oneOf(rtcS.get('ip_family'), ['ipv4', 'ipv6', 'all'], 'ipv4'),
    apiAsCandidates: rtcS.get('api_as_candidates'),
    resolveApiDomain: rtcS.get('resolve_api_domain'),
    keepApiDomain: rtcS.get('keep_api_domain'),
    ecdsa: rtcS.get('ecdsa'),
    encrypt: rtcS.get('encrypt'),
    reuseport: rtcS.get('reuseport'),
    mergeNalus: rtcS.get('merge_nalus'),
    blackHole: { enabled: blackHole.get('enabled'), addr: blackHole.get('addr') },
    followClientAddress: rtcS.get('follow_client_address'),
  };

  const srt = root.child('srt_server');
  const srtServer: SrtServerConfig = {
    enabled: srt.get('enabled'),
    listen: srt.get('listen'),
    maxbw: srt.get('maxbw'),
    mss: srt.get('mss'),
    connectTimeout: srt.get('connect_timeout'),
    peerIdleTimeout: srt.get('peer_idle_timeout'),
    defaultApp: srt.get('default_app'),
    defaultStreamId: srt.get('default_streamid'),
    defaultMode: srt.get('default_mode') === 'publish' ? 'publish' : 'play',
    peerLatency: srt.get('peerlatency'),
    recvLatency: srt.get('recvlatency'),
    latency: srt.get('latency'),
    tsbpdMode: srt.get('tsbpdmode'),
    tlpktDrop: srt.get('tlpktdrop'),
    sendBuf: srt.get('sendbuf'),
    recvBuf: srt.get('recvbuf'),
    payloadSize: srt.get('payloadsize'),
    passphrase: srt.get('passphrase'),
    pbKeyLen: srt.get('pbkeylen'),
    seiFilter: srt.get('sei_filter'),
  };

  const exp = root.child('exporter');
  const hb = root.child('heartbeat');
  const stats = root.child('stats');
  const cb = root.child('circuit_breaker');

  // Global chunk_size is overridden by SRS_VHOST_CHUNK_SIZE (SRS quirk, contract §4.4; in the schema).
  const chunkSize = root.get('chunk_size');

  const vhostNodes = findChildren(tree, 'vhost');
  const vhosts: VhostConfig[] = [];
  const byName = new Map<string, VhostConfig>();
  for (const node of vhostNodes) {
    const name = node.args[0] ?? '';
    if (byName.has(name)) continue; // SRS takes the first; validate() warned
    const v = buildVhostConfig(name, node, env, chunkSize);
    vhosts.push(v);
    byName.set(name, v);
  }
  if (envOnly && !byName.has(DEFAULT_VHOST)) {
    const v = buildVhostConfig(DEFAULT_VHOST, undefined, env, chunkSize);
    vhosts.push(v);
    byName.set(DEFAULT_VHOST, v);
  }

  const tankRaw = root.raw('srs_log_tank');
  const daemonRaw = root.raw('daemon');

  return {
    file: info.file,
    envOnly,
    warnings: info.warnings,
    inert: info.inert,
    listen: listenEndpoints(root, envOnly),
    maxConnections: root.get('max_connections'),
    chunkSize,
    pid: root.get('pid'),
    serverId: root.raw('server_id'),
    daemon: daemonRaw === undefined ? !envOnly : root.get('daemon'),
    logLevel: logLevel(root),
    logTank: tankRaw === undefined ? (envOnly ? 'console' : 'file') : tankRaw === 'console' ? 'console' : 'file',
    logFile: root.get('srs_log_file'),
    utcTime: root.get('utc_time'),
    pithyPrintMs: root.get('pithy_print_ms'),
    ffLogDir: root.get('ff_log_dir'),
    ffLogLevel: root.get('ff_log_level'),
    graceStartWait: root.get('grace_start_wait'),
    graceFinalWait: root.get('grace_final_wait'),
    forceGraceQuit: root.get('force_grace_quit'),
    workDir: root.get('work_dir'),
    asprocess: root.get('asprocess'),
    emptyIpOk: root.get('empty_ip_ok'),
    inotifyAutoReload: root.get('inotify_auto_reload'),
    httpApi,
    httpServer,
    rtmps: https(root.child('rtmps')),
    tls: buildTlsConfig(root.child('tls')),
    rtcServer,
    srtServer,
    exporter: {
      enabled: exp.get('enabled'),
      listen: exp.get('listen'),
      label: exp.get('label'),
      tag: exp.get('tag'),
    },
    heartbeat: {
      enabled: hb.get('enabled'),
      interval: hb.get('interval'),
      url: hb.get('url'),
      deviceId: hb.get('device_id'),
      summaries: hb.get('summaries'),
      ports: hb.get('ports'),
    },
    stats: {
      enabled: stats.get('enabled'),
      network: stats.get('network'),
      disk: stats.get('disk'),
    },
    circuitBreaker: {
      enabled: cb.get('enabled'),
      highThreshold: cb.get('high_threshold'),
      highPulse: cb.get('high_pulse'),
      criticalThreshold: cb.get('critical_threshold'),
      criticalPulse: cb.get('critical_pulse'),
      dyingThreshold: cb.get('dying_threshold'),
      dyingPulse: cb.get('dying_pulse'),
    },
    streamCasters: root.each('stream_caster').map((s) => {
      const sip = s.child('sip');
      return {
        enabled: s.get('enabled'),
        caster: s.get('caster'),
        output: s.get('output'),
        listen: s.get('listen'),
        sip: {
          enabled: sip.get('enabled'),
          listen: sip.get('listen'),
          timeout: sip.get('timeout'),
          reinvite: sip.get('reinvite'),
          candidate: sip.get('candidate'),
        },
      };
    }),
    vhosts,
    getVhost(name: string): VhostConfig | null {
      return byName.get(name) ?? byName.get(DEFAULT_VHOST) ?? null;
    },
  };
}

function isEnvOnly(env: Env, options: LoadOptions): boolean {
  return options.envOnly === true || envLookup(env, ['SRS_ENV_ONLY']) !== undefined;
}

/** transform → validate → typed view. */
function finish(tree: ConfigDirective, env: Env, file: string | null, envOnly: boolean): ServerConfig {
  const transformed = transformLegacy(tree);
  const checkWarnings = validateConfig(transformed.root, { env, envOnly });
  const warnings = [...transformed.warnings, ...checkWarnings];
  return buildServerConfig(transformed.root, env, {
    file,
    envOnly,
    warnings,
    inert: inertDirectives(transformed.root, env, warnings),
  });
}

/** Config from env vars only (`-e` / SRS_ENV_ONLY). */
export function envOnlyConfig(env: Env): ServerConfig {
  const tree: ConfigDirective = { name: '', args: [], children: [], file: '<env>', line: 0 };
  return finish(tree, env, null, true);
}

/**
 * Loads, transforms and validates a config file (sync fs; startup and reload only).
 * SRS_CONFIG_FILE overrides `file`; env-only mode ignores the file. Throws ConfigError.
 */
export function loadConfig(file: string, env: Env, options: LoadOptions = {}): ServerConfig {
  if (isEnvOnly(env, options)) return envOnlyConfig(env);
  const path = envLookup(env, ['SRS_CONFIG_FILE']) ?? file;
  const tree = parseConfigFile(path, { readInclude: options.readInclude, cwd: options.cwd });
  return finish(tree, env, path, false);
}

/** Parses config text (includes resolved through `includeReader`, default the file system). */
export function parseConfigText(
  text: string,
  fileName: string,
  env: Env,
  includeReader?: IncludeReader,
  options: Omit<LoadOptions, 'readInclude'> = {},
): ServerConfig {
  if (isEnvOnly(env, options)) return envOnlyConfig(env);
  const tree = parseConfigTree(text, fileName, { readInclude: includeReader, cwd: options.cwd });
  return finish(tree, env, fileName, false);
}

/** The built-in default used when the server starts without `-c` (conf/default.conf). */
export function defaultConfig(env: Env): ServerConfig {
  const tree = parseConfigTree(DEFAULT_CONFIG_TEXT, 'conf/default.conf');
  return finish(tree, env, null, false);
}
