// The typed view of the whole config that the rest of the server reads. Nothing
// outside src/config walks the raw directive tree. Defaults are SRS's code values
// (contract §4.6); env overrides follow contract §4.4 and are passed in explicitly.

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
import { Scope } from './scope.js';
import { validateConfig } from './validate.js';
import { envLookup, type Env } from './values.js';
import { buildVhostConfig, DEFAULT_VHOST, type VhostConfig } from './vhost-config.js';

export type { Endpoint } from './endpoint.js';
export type { Env } from './values.js';
export * from './vhost-config.js';

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
  auth: { enabled: boolean; username: string; password: string; token: string; readonlyToken: string };
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

function logLevel(root: Scope): LogLevel {
  const v2 = root.raw('srs_log_level_v2', ['SRS_LOG_LEVEL_V2']);
  if (v2 !== undefined && V2_LEVELS.has(v2)) return v2 as LogLevel;
  const v1 = root.raw('srs_log_level', ['SRS_LOG_LEVEL']);
  return (v1 !== undefined ? V1_LEVELS[v1] : undefined) ?? 'info';
}

function anyPort(port: number): Endpoint {
  return { host: null, port };
}

function listenEndpoints(root: Scope, envOnly: boolean): Endpoint[] {
  const texts = root.list('listen');
  if (texts.length === 0 && envOnly) return [anyPort(1935)];
  const d = root.directive('listen');
  return texts.map((t) => {
    const r = parseEndpoint(t);
    if (r.ok) return r.endpoint;
    throw d !== undefined ? new ConfigError(d.file, d.line, r.reason) : new ConfigError('SRS_LISTEN', 0, r.reason);
  });
}

function https(s: Scope, defPort: number): HttpsConfig {
  return {
    enabled: s.bool('enabled', false),
    listen: s.endpoint('listen', anyPort(defPort)),
    key: s.str('key', './conf/server.key'),
    cert: s.str('cert', './conf/server.crt'),
  };
}

function rtcCandidate(s: Scope, env: Env): string {
  const raw = s.str('candidate', '*');
  if (!raw.startsWith('$')) return raw;
  return envLookup(env, [raw.slice(1)]) ?? '*';
}

function oneOf<T extends string>(value: string, allowed: readonly T[], def: T): T {
  return (allowed as readonly string[]).includes(value) ? (value as T) : def;
}

/** Builds the typed view from a transformed, validated tree. */
export function buildServerConfig(
  tree: ConfigDirective,
  env: Env,
  info: { file: string | null; envOnly: boolean; warnings: readonly string[] },
): ServerConfig {
  const root = new Scope(tree, [], env, tree.file);
  const { envOnly } = info;

  const httpServerScope = root.child('http_server');
  const httpServerListen = httpServerScope.endpoint('listen', anyPort(8080));
  const httpServerHttps = https(httpServerScope.child('https'), 8088);
  const httpServer: HttpServerConfig = {
    enabled: httpServerScope.bool('enabled', false),
    listen: httpServerListen,
    dir: httpServerScope.str('dir', './objs/nginx/html'),
    crossdomain: httpServerScope.bool('crossdomain', true),
    https: httpServerHttps,
  };

  const api = root.child('http_api');
  const apiListen = api.endpoint('listen', anyPort(1985));
  // Sharing the HTTP port with the server also shares the HTTPS port by default (contract §1.1).
  const apiHttpsDefault = endpointEquals(apiListen, httpServerListen) ? httpServerHttps.listen.port : 1990;
  const auth = api.child('auth');
  const rawApi = api.child('raw_api');
  const httpApi: HttpApiConfig = {
    enabled: api.bool('enabled', false),
    listen: apiListen,
    crossdomain: api.bool('crossdomain', true),
    auth: {
      enabled: auth.bool('enabled', false),
      username: auth.str('username', ''),
      password: auth.str('password', ''),
      token: auth.str('token', ''),
      readonlyToken: auth.str('readonly_token', ''),
    },
    https: https(api.child('https'), apiHttpsDefault),
    rawApi: {
      enabled: rawApi.bool('enabled', false),
      allowReload: rawApi.bool('allow_reload', false),
      allowQuery: false,
      allowUpdate: false,
    },
  };

  const rtcS = root.child('rtc_server');
  const rtcTcp = rtcS.child('tcp');
  const blackHole = rtcS.child('black_hole');
  const rtcServer: RtcServerConfig = {
    enabled: rtcS.bool('enabled', false),
    listen: rtcS.int('listen', 8000),
    tcp: { enabled: rtcTcp.bool('enabled', false), listen: rtcTcp.int('listen', 8000) },
    protocol: oneOf(rtcS.str('protocol', 'udp'), ['udp', 'tcp', 'all'], 'udp'),
    candidate: rtcCandidate(rtcS, env),
    useAutoDetectNetworkIp: rtcS.bool('use_auto_detect_network_ip', true),
    ipFamily: oneOf(rtcS.str('ip_family', 'ipv4'), ['ipv4', 'ipv6', 'all'], 'ipv4'),
    apiAsCandidates: rtcS.bool('api_as_candidates', true),
    resolveApiDomain: rtcS.bool('resolve_api_domain', true),
    keepApiDomain: rtcS.bool('keep_api_domain', false),
    ecdsa: rtcS.bool('ecdsa', true),
    encrypt: rtcS.bool('encrypt', true),
    reuseport: rtcS.int('reuseport', 1),
    mergeNalus: rtcS.bool('merge_nalus', false),
    blackHole: { enabled: blackHole.bool('enabled', false), addr: blackHole.str('addr', '') },
    followClientAddress: rtcS.bool('follow_client_address', true),
  };

  const srt = root.child('srt_server');
  const srtServer: SrtServerConfig = {
    enabled: srt.bool('enabled', false),
    listen: srt.int('listen', 10080),
    maxbw: srt.int('maxbw', -1),
    mss: srt.int('mss', 1500),
    connectTimeout: srt.int('connect_timeout', 3000),
    peerIdleTimeout: srt.int('peer_idle_timeout', 10000),
    defaultApp: srt.str('default_app', 'live'),
    peerLatency: srt.int('peerlatency', 0),
    recvLatency: srt.int('recvlatency', 120),
    latency: srt.int('latency', 120),
    tsbpdMode: srt.bool('tsbpdmode', true),
    tlpktDrop: srt.bool('tlpktdrop', true),
    sendBuf: srt.int('sendbuf', 8192 * (1500 - 28)),
    recvBuf: srt.int('recvbuf', 8192 * (1500 - 28)),
    payloadSize: srt.int('payloadsize', 1316),
    passphrase: srt.str('passphrase', ''),
    pbKeyLen: srt.int('pbkeylen', 0),
    seiFilter: srt.bool('sei_filter', true),
  };

  const exp = root.child('exporter');
  const hb = root.child('heartbeat');
  const stats = root.child('stats').withoutEnv();
  const cb = root.child('circuit_breaker');

  // Global chunk_size is overridden by SRS_VHOST_CHUNK_SIZE (SRS quirk, contract §4.4).
  const chunkSize = root.withoutEnv().int('chunk_size', 60000, ['SRS_VHOST_CHUNK_SIZE']);

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

  const tankRaw = root.raw('srs_log_tank', ['SRS_LOG_TANK']);
  const daemonRaw = root.raw('daemon');

  return {
    file: info.file,
    envOnly,
    warnings: info.warnings,
    listen: listenEndpoints(root, envOnly),
    maxConnections: root.int('max_connections', 1000),
    chunkSize,
    pid: root.str('pid', './objs/srs.pid'),
    serverId: root.raw('server_id'),
    daemon: daemonRaw === undefined ? !envOnly : root.bool('daemon', true),
    logLevel: logLevel(root),
    logTank: tankRaw === undefined ? (envOnly ? 'console' : 'file') : tankRaw === 'console' ? 'console' : 'file',
    logFile: root.str('srs_log_file', './objs/srs.log', ['SRS_LOG_FILE']),
    utcTime: root.bool('utc_time', false),
    pithyPrintMs: root.int('pithy_print_ms', 10000),
    ffLogDir: root.str('ff_log_dir', './objs'),
    ffLogLevel: root.str('ff_log_level', 'info'),
    graceStartWait: root.int('grace_start_wait', 2300),
    graceFinalWait: root.int('grace_final_wait', 3200),
    forceGraceQuit: root.bool('force_grace_quit', false),
    workDir: root.str('work_dir', './'),
    asprocess: root.bool('asprocess', false),
    emptyIpOk: root.bool('empty_ip_ok', true),
    inotifyAutoReload: root.bool('inotify_auto_reload', false),
    httpApi,
    httpServer,
    rtcServer,
    srtServer,
    exporter: {
      enabled: exp.bool('enabled', false),
      listen: exp.endpoint('listen', anyPort(9972)),
      label: exp.str('label', ''),
      tag: exp.str('tag', ''),
    },
    heartbeat: {
      enabled: hb.bool('enabled', false),
      interval: hb.int('interval', 10),
      url: hb.str('url', 'http://127.0.0.1:8085/api/v1/servers'),
      deviceId: hb.str('device_id', ''),
      summaries: hb.bool('summaries', false),
      ports: hb.bool('ports', false),
    },
    stats: {
      enabled: stats.bool('enabled', true),
      network: stats.int('network', 0),
      disk: stats.list('disk'),
    },
    circuitBreaker: {
      enabled: cb.bool('enabled', true),
      highThreshold: cb.int('high_threshold', 90),
      highPulse: cb.int('high_pulse', 2),
      criticalThreshold: cb.int('critical_threshold', 95),
      criticalPulse: cb.int('critical_pulse', 1),
      dyingThreshold: cb.int('dying_threshold', 99),
      dyingPulse: cb.int('dying_pulse', 5),
    },
    streamCasters: findChildren(tree, 'stream_caster').map((d) => {
      const s = new Scope(d, null, env);
      const sip = s.child('sip');
      return {
        enabled: s.bool('enabled', false),
        caster: s.str('caster', ''),
        output: s.str('output', ''),
        listen: s.int('listen', 0),
        sip: {
          enabled: sip.bool('enabled', true),
          listen: sip.int('listen', 5060),
          timeout: sip.int('timeout', 60),
          reinvite: sip.int('reinvite', 5),
          candidate: sip.str('candidate', '*'),
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
  return buildServerConfig(transformed.root, env, {
    file,
    envOnly,
    warnings: [...transformed.warnings, ...checkWarnings],
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
