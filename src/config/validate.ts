// Config validation (contract §4.3): a directive the schema does not list is
// fatal, a few value and cross-directive rules are checked, and every error names
// the offending directive's file:line. Runs on the tree after the legacy transform.

import { parseEndpoint } from './endpoint.js';
import { ConfigError, findChild, findChildren, type ConfigDirective } from './parser.js';
import { ROOT, VHOST } from './schema.js';
import type { Children } from './schema-types.js';
import { atof, atoi, envKey, envLookup, preferFalse, preferTrue, type Env } from './values.js';

export { transformLegacy } from './legacy-transform.js';

export interface ValidateOptions {
  env: Env;
  /** `-e` / SRS_ENV_ONLY: no file, so emptiness and a missing `listen` are fine. */
  envOnly: boolean;
}

function fail(d: ConfigDirective, reason: string): never {
  throw new ConfigError(d.file, d.line, reason);
}

/** Every child must be in the schema; blocks are checked below, free-form blocks are not. */
function checkNames(block: ConfigDirective, schema: Children, path: string): void {
  for (const c of block.children) {
    const entry = Object.prototype.hasOwnProperty.call(schema, c.name) ? schema[c.name] : undefined;
    const full = path === '' ? c.name : `${path}.${c.name}`;
    if (entry === undefined) fail(c, `illegal directive "${full}"`);
    if (entry.kind === 'block') checkNames(c, entry.children, full);
  }
}

/** arg0 of the first `name` child, with the env var (if given) winning when non-empty. */
function value(block: ConfigDirective | undefined, name: string, envKeys: readonly string[], env: Env): string | undefined {
  const e = envLookup(env, envKeys);
  if (e !== undefined) return e;
  return findChild(block, name)?.args[0];
}

/** Where to report a problem found in a value that may have come from env. */
function locate(root: ConfigDirective, d: ConfigDirective | undefined): ConfigDirective {
  return d ?? root;
}

function checkListen(root: ConfigDirective, opts: ValidateOptions): void {
  const envListen = envLookup(opts.env, ['SRS_LISTEN']);
  if (envListen !== undefined) {
    for (const t of envListen.split(/\s+/).filter((s) => s !== '')) {
      const r = parseEndpoint(t);
      if (!r.ok) throw new ConfigError('SRS_LISTEN', 0, r.reason);
    }
    return;
  }
  const listen = findChild(root, 'listen');
  if (listen === undefined) {
    if (opts.envOnly) return;
    throw new ConfigError(root.file, 0, 'listen requires params');
  }
  if (listen.args.length === 0) fail(listen, 'listen requires params');
  for (const t of listen.args) {
    const r = parseEndpoint(t);
    if (!r.ok) fail(listen, r.reason);
  }
}

function checkTcpListen(block: ConfigDirective | undefined, path: string[], env: Env, root: ConfigDirective): void {
  const e = envLookup(env, [envKey([...path, 'listen'])]);
  const d = findChild(block, 'listen');
  const text = e ?? d?.args[0];
  if (text === undefined) return;
  const r = parseEndpoint(text);
  if (!r.ok) {
    if (e !== undefined) throw new ConfigError(envKey([...path, 'listen']), 0, `${path.join('.')}.listen: ${r.reason}`);
    fail(locate(root, d), `${path.join('.')}.listen: ${r.reason}`);
  }
}

function checkHttpPorts(root: ConfigDirective, env: Env): void {
  const api = findChild(root, 'http_api');
  const server = findChild(root, 'http_server');
  checkTcpListen(api, ['http_api'], env, root);
  checkTcpListen(server, ['http_server'], env, root);
  checkTcpListen(findChild(api, 'https'), ['http_api', 'https'], env, root);
  checkTcpListen(findChild(server, 'https'), ['http_server', 'https'], env, root);
  checkTcpListen(findChild(root, 'exporter'), ['exporter'], env, root);

  const apiOn = preferFalse(value(api, 'enabled', ['SRS_HTTP_API_ENABLED'], env));
  const serverOn = preferFalse(value(server, 'enabled', ['SRS_HTTP_SERVER_ENABLED'], env));
  const apiHttps = findChild(api, 'https');
  const serverHttps = findChild(server, 'https');
  const apiHttpsOn = preferFalse(value(apiHttps, 'enabled', ['SRS_HTTP_API_HTTPS_ENABLED'], env));
  const serverHttpsOn = preferFalse(value(serverHttps, 'enabled', ['SRS_HTTP_SERVER_HTTPS_ENABLED'], env));
  if (apiHttpsOn && !apiOn) fail(locate(root, apiHttps), 'https api requires http_api enabled');
  if (serverHttpsOn && !serverOn) fail(locate(root, serverHttps), 'https server requires http_server enabled');

  // Port sharing only matters when both HTTP services run (see contract §1.1).
  if (!apiOn || !serverOn) return;
  const { http_api: apiSchema, http_server: serverSchema } = ROOT.children;
  const apiListen = value(api, 'listen', ['SRS_HTTP_API_LISTEN'], env) ?? String(apiSchema.children.listen.def);
  const serverListen = value(server, 'listen', ['SRS_HTTP_SERVER_LISTEN'], env) ?? String(serverSchema.children.listen.def);
  const serverHttpsListen =
    value(serverHttps, 'listen', ['SRS_HTTP_SERVER_HTTPS_LISTEN'], env) ?? String(serverSchema.children.https.children.listen.def);
  const apiHttpsListen =
    value(apiHttps, 'listen', ['SRS_HTTP_API_HTTPS_LISTEN'], env) ??
    (apiListen === serverListen ? serverHttpsListen : String(apiSchema.children.https.children.listen.def));
  const sameHttp = apiListen === serverListen;
  const sameHttps = apiHttpsListen === serverHttpsListen;
  if (sameHttp !== sameHttps) {
    fail(
      locate(root, api),
      sameHttp
        ? `http_api and http_server share port ${apiListen} but their https ports differ (${apiHttpsListen} vs ${serverHttpsListen})`
        : `http_api and http_server share https port ${apiHttpsListen} but their http ports differ (${apiListen} vs ${serverListen})`,
    );
  }
}

function warnChunkSize(d: ConfigDirective | undefined, warnings: string[]): void {
  if (d === undefined) return;
  const n = atoi(d.args[0]);
  if (n < 128 || n > 65536) warnings.push(`${d.file}:${d.line}: chunk_size ${n} is outside [128, 65536]`);
}

/** What the HTTP live wing serves at a mount's base (src/servers/http-live). */
const REMUX_EXTENSIONS: ReadonlySet<string> = new Set(['flv', 'ts', 'aac', 'mp3']);

function checkVhost(vhost: ConfigDirective, env: Env, warnings: string[]): void {
  const name = vhost.args[0];
  if (name === undefined) fail(vhost, 'vhost requires a name');
  warnChunkSize(findChild(vhost, 'chunk_size'), warnings);

  const remuxes = findChildren(vhost, 'http_remux');
  if (remuxes.length > 1) fail(remuxes[1], `vhost ${name}: only one http_remux is allowed per vhost`);
  const remux = remuxes[0];
  const hls = findChild(vhost, 'hls');
  const hlsOn = preferFalse(value(hls, 'enabled', ['SRS_VHOST_HLS_ENABLED'], env));
  const mountDir = findChild(remux, 'mount');
  const mount = value(remux, 'mount', ['SRS_VHOST_HTTP_REMUX_MOUNT'], env) ?? VHOST.children.http_remux.children.mount.def;
  if (hlsOn && mount.endsWith('.ts')) {
    fail(mountDir ?? remux ?? hls ?? vhost, `vhost ${name}: hls conflicts with http_remux mount "${mount}" (.ts)`);
  }
  // The mount's extension picks nothing by itself: its base serves our formats only,
  // so e.g. SRS 7's `.mp4` (HTTP-fMP4 live) would answer 404 with no word at load.
  const ext = /\.([a-z0-9]+)$/i.exec(mount)?.[1]?.toLowerCase();
  if (remux !== undefined && preferFalse(value(remux, 'enabled', ['SRS_VHOST_HTTP_REMUX_ENABLED'], env)) && !REMUX_EXTENSIONS.has(ext ?? '')) {
    const at = mountDir ?? remux;
    warnings.push(
      `${at.file}:${at.line}: "vhost.http_remux.mount" ${mount}: .${ext ?? ''} is not served (not implemented); the mount's base serves .flv, .ts, .aac and .mp3`,
    );
  }

  const forward = findChild(vhost, 'forward');
  const kickoff = findChild(findChild(vhost, 'publish'), 'kickoff_for_idle');
  const kickoffValue = atof(value(findChild(vhost, 'publish'), 'kickoff_for_idle', ['SRS_VHOST_PUBLISH_KICKOFF_FOR_IDLE'], env));
  if (preferFalse(findChild(forward, 'enabled')?.args[0]) && kickoffValue > 0) {
    fail(kickoff ?? forward ?? vhost, `vhost ${name}: forward conflicts with publish.kickoff_for_idle`);
  }

  const ingestIds = new Set<string>();
  for (const ingest of findChildren(vhost, 'ingest')) {
    const id = ingest.args[0] ?? '';
    if (ingestIds.has(id)) fail(ingest, `vhost ${name}: duplicated ingest id "${id}"`);
    ingestIds.add(id);
  }

  const dvrPlan = findChild(findChild(vhost, 'dvr'), 'dvr_plan');
  const plan = value(findChild(vhost, 'dvr'), 'dvr_plan', ['SRS_VHOST_DVR_DVR_PLAN'], env);
  if (plan !== undefined && plan !== 'session' && plan !== 'segment') {
    fail(dvrPlan ?? vhost, `vhost ${name}: dvr_plan must be session or segment, got "${plan}"`);
  }
}

/**
 * Validates a (legacy-transformed) tree. Throws ConfigError at the first fatal
 * problem; returns warnings as `file:line: message` lines.
 */
export function validateConfig(root: ConfigDirective, opts: ValidateOptions): string[] {
  const warnings: string[] = [];
  const { env } = opts;
  if (root.children.length === 0 && !opts.envOnly) throw new ConfigError(root.file, 0, 'conf is empty');

  checkNames(root, ROOT.children, '');
  checkListen(root, opts);

  const maxConnDir = findChild(root, 'max_connections');
  const maxConn = value(root, 'max_connections', ['SRS_MAX_CONNECTIONS'], env);
  if (maxConn !== undefined && atoi(maxConn) <= 0) {
    fail(locate(root, maxConnDir), `max_connections must be > 0, got "${maxConn}"`);
  }
  warnChunkSize(findChild(root, 'chunk_size'), warnings);

  const heartbeat = findChild(root, 'heartbeat');
  const interval = findChild(heartbeat, 'interval');
  if (interval !== undefined && atof(interval.args[0]) <= 0) fail(interval, 'heartbeat.interval must be > 0');

  const authBlock = findChild(findChild(root, 'http_api'), 'auth');
  const authType = value(authBlock, 'type', ['SRS_HTTP_API_AUTH_TYPE'], env);
  if (authType !== undefined && authType !== '' && authType !== 'basic' && authType !== 'bearer') {
    fail(locate(root, findChild(authBlock, 'type')), `http_api.auth.type must be basic or bearer, got "${authType}"`);
  }

  const srt = findChild(root, 'srt_server');
  const mode = value(srt, 'default_mode', ['SRS_SRT_SERVER_DEFAULT_MODE'], env);
  // A typo would quietly turn publishers into players.
  if (mode !== undefined && mode !== 'request' && mode !== 'publish') {
    fail(locate(root, findChild(srt, 'default_mode')), `srt_server.default_mode must be request or publish, got "${mode}"`);
  }

  const network = findChild(findChild(root, 'stats'), 'network');
  if (network !== undefined && !/^\d+$/.test(network.args[0] ?? '')) {
    fail(network, 'stats.network must be a network interface index (0, 1, ...)');
  }

  const tank = value(root, 'srs_log_tank', ['SRS_LOG_TANK', 'SRS_SRS_LOG_TANK'], env);
  const logFile = findChild(root, 'srs_log_file');
  if (tank !== 'console' && logFile !== undefined && logFile.args.length === 0) {
    fail(logFile, 'srs_log_file must not be empty when logging to a file');
  }

  const daemon = value(root, 'daemon', ['SRS_DAEMON'], env);
  const daemonOn = opts.envOnly && daemon === undefined ? false : preferTrue(daemon);
  const asprocess = findChild(root, 'asprocess');
  if (daemonOn && preferFalse(value(root, 'asprocess', ['SRS_ASPROCESS'], env))) {
    fail(locate(root, asprocess), 'daemon conflicts with asprocess');
  }
  const isFull = findChild(root, 'is_full');
  if (isFull !== undefined && preferFalse(isFull.args[0])) {
    fail(isFull, 'full.conf is a reference, not a usable config (is_full on)');
  }

  checkHttpPorts(root, env);

  const seen = new Map<string, ConfigDirective>();
  for (const vhost of findChildren(root, 'vhost')) {
    checkVhost(vhost, env, warnings);
    const name = vhost.args[0];
    const first = seen.get(name);
    if (first !== undefined) {
      warnings.push(`${vhost.file}:${vhost.line}: duplicated vhost "${name}" ignored (first at ${first.file}:${first.line})`);
    } else {
      seen.set(name, vhost);
    }
  }
  return warnings;
}
