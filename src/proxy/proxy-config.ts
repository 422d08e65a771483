/**
 * `sluice proxy`'s own small config: a file in SRS's syntax (`-c`) and/or
 * SRS proxy's PROXY_* environment names, the environment winning (as SRS's
 * SRS_* do over a file). Directives and variables:
 *
 *   rtmp_server 1935;        PROXY_RTMP_SERVER        RTMP listen (`port` or `host:port`; `off`)
 *   http_server 8080;        PROXY_HTTP_SERVER        HTTP-FLV/TS, HLS, DASH listen (`off`)
 *   system_api 12025;        PROXY_SYSTEM_API         heartbeats (/api/v1/srs/register) and state
 *   load_balancer memory;    PROXY_LOAD_BALANCER_TYPE memory | redis
 *   redis { host 127.0.0.1; port 6379; password ""; db 0; }
 *                            PROXY_REDIS_HOST/_PORT/_PASSWORD/_DB
 *   origin_ttl 30;           PROXY_ORIGIN_TTL         s an origin lives past its last heartbeat (Sluice's)
 *   pin_refresh 10;          PROXY_PIN_REFRESH        s between a publisher's pin refreshes (Sluice's)
 *   connect_timeout 10;      PROXY_CONNECT_TIMEOUT    s an RTMP client has to name its stream (Sluice's)
 *   webrtc_server off;       PROXY_WEBRTC_SERVER      the public UDP port of the WebRTC relay (`off`: none)
 *   webrtc_candidate IP;     PROXY_WEBRTC_CANDIDATE   the address clients reach that port at (Sluice's; default: first non-loopback IPv4)
 *   srt_server 20080;        PROXY_SRT_SERVER         the UDP port of the SRT relay, routed by streamid (`off`: none)
 *   rtmps_server off;        PROXY_RTMPS_SERVER       RTMPS listen: TLS ends here, routed as RTMP (Sluice's)
 *   rtmps_key FILE;          PROXY_RTMPS_KEY          its PEM key (Sluice's)
 *   rtmps_cert FILE;         PROXY_RTMPS_CERT         its PEM certificate chain (Sluice's)
 *
 * SRS proxy's PROXY_HTTP_API is accepted and reported as not acted on
 * (WHIP/WHEP go through the HTTP server port).
 */
import { ConfigError, findChild, parseConfigTree, type ConfigDirective } from '../config/parser.js';
import { networkInterfaces } from 'node:os';
import { parseEndpoint, type HostPort } from './origin-endpoint.js';

function firstIpv4(): string {
  const all = Object.values(networkInterfaces()).flatMap((l) => l ?? []);
  return all.find((a) => a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
}

export interface ProxyConfig {
  rtmpServer: HostPort | null;
  httpServer: HostPort | null;
  systemApi: HostPort;
  loadBalancer: 'memory' | 'redis';
  redis: { host: string; port: number; password: string; db: number };
  originTtlMs: number;
  pinRefreshMs: number;
  connectTimeoutMs: number;
  webrtcServer: HostPort | null;
  webrtcCandidate: string;
  srtServer: HostPort | null;
  rtmpsServer: HostPort | null;
  /** PEM files of the RTMPS listener (both set when it is on). */
  rtmpsFiles: { key: string; cert: string };
  /** Settings given but not acted on, one line each for the log. */
  inert: string[];
}

const NOT_ACTED_ON: Record<string, string> = {
  PROXY_HTTP_API: 'http_api',
};

/** `port` or `host:port`; port 0 lets the system pick (the log line says which). */
function listen(text: string, what: string): HostPort {
  const zero = /^(?:(.*):)?0$/.exec(text);
  const hp = zero ? { host: zero[1] || '0.0.0.0', port: 0 } : parseEndpoint(text, '0.0.0.0');
  if (!hp) throw new Error(`${what}: "${text}" is not a port or host:port`);
  return hp;
}

function seconds(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw new Error(`${what}: "${text}" is not a number of seconds`);
  return Math.round(n * 1000);
}

/** One setting: env first, then the file's directive (inside `block` when given), then the default. */
function pick(env: NodeJS.ProcessEnv, root: ConfigDirective | undefined, envName: string, name: string, def: string, block?: string): string {
  const e = env[envName];
  if (e !== undefined && e !== '') return e;
  const parent = block ? findChild(root, block) : root;
  const d = findChild(parent, name);
  return d?.args[0] ?? def;
}

export function parseProxyConfig(fileText: string | null, fileName: string, env: NodeJS.ProcessEnv): ProxyConfig {
  const root = fileText === null ? undefined : parseConfigTree(fileText, fileName);
  const get = (envName: string, name: string, def: string, block?: string): string => pick(env, root, envName, name, def, block);
  const optional = (envName: string, name: string, def: string): HostPort | null => {
    const v = get(envName, name, def);
    return v === 'off' ? null : listen(v, name);
  };
  const lb = get('PROXY_LOAD_BALANCER_TYPE', 'load_balancer', 'memory');
  if (lb !== 'memory' && lb !== 'redis') throw new ConfigError(fileName, 0, `load_balancer must be memory or redis, not "${lb}"`);
  const redisPort = Number(get('PROXY_REDIS_PORT', 'port', '6379', 'redis'));
  const db = Number(get('PROXY_REDIS_DB', 'db', '0', 'redis'));
  if (!Number.isInteger(redisPort) || redisPort < 1 || redisPort > 65535) throw new Error('redis port must be 1..65535');
  if (!Number.isInteger(db) || db < 0) throw new Error('redis db must be a whole number');
  const rtmpsServer = optional('PROXY_RTMPS_SERVER', 'rtmps_server', 'off');
  const rtmpsFiles = { key: get('PROXY_RTMPS_KEY', 'rtmps_key', ''), cert: get('PROXY_RTMPS_CERT', 'rtmps_cert', '') };
  if (rtmpsServer && (!rtmpsFiles.key || !rtmpsFiles.cert)) throw new ConfigError(fileName, 0, 'rtmps_server needs rtmps_key and rtmps_cert (PROXY_RTMPS_KEY, PROXY_RTMPS_CERT)');
  const inert: string[] = [];
  for (const [envName, name] of Object.entries(NOT_ACTED_ON)) {
    if (env[envName] || findChild(root, name)) inert.push(`${envName} / ${name}: accepted but not acted on (the proxy relays RTMP, SRT, HTTP streams and WHIP/WHEP only)`);
  }
  return {
    rtmpServer: optional('PROXY_RTMP_SERVER', 'rtmp_server', '1935'),
    httpServer: optional('PROXY_HTTP_SERVER', 'http_server', '8080'),
    systemApi: listen(get('PROXY_SYSTEM_API', 'system_api', '12025'), 'system_api'),
    loadBalancer: lb,
    redis: {
      host: get('PROXY_REDIS_HOST', 'host', '127.0.0.1', 'redis'),
      port: redisPort,
      password: get('PROXY_REDIS_PASSWORD', 'password', '', 'redis'),
      db,
    },
    originTtlMs: seconds(get('PROXY_ORIGIN_TTL', 'origin_ttl', '30'), 'origin_ttl'),
    pinRefreshMs: seconds(get('PROXY_PIN_REFRESH', 'pin_refresh', '10'), 'pin_refresh'),
    connectTimeoutMs: seconds(get('PROXY_CONNECT_TIMEOUT', 'connect_timeout', '10'), 'connect_timeout'),
    webrtcServer: optional('PROXY_WEBRTC_SERVER', 'webrtc_server', 'off'),
    webrtcCandidate: get('PROXY_WEBRTC_CANDIDATE', 'webrtc_candidate', firstIpv4()),
    // SRS proxy's default port.
    srtServer: optional('PROXY_SRT_SERVER', 'srt_server', '20080'),
    rtmpsServer,
    rtmpsFiles,
    inert,
  };
}
