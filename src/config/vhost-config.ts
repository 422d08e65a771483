// Typed per-vhost settings. Kinds, defaults and env rules come from the schema
// (schema.ts); this file shapes them into the typed view and keeps the few
// derived values (clamps, enums, defaults that follow another directive).

import type { ConfigDirective } from './parser.js';
import { VHOST, type VhostSchema } from './schema.js';
import type { ChildrenOf } from './schema-types.js';
import { Scope } from './scope.js';
import type { Env } from './values.js';

export const DEFAULT_VHOST = '__defaultVhost__';

export type TimeJitter = 'full' | 'zero' | 'off';

export interface PlayConfig {
  gopCache: boolean;
  /** 0 = unlimited. */
  gopCacheMaxFrames: number;
  /** Seconds of media a player queue may hold. */
  queueLength: number;
  timeJitter: TimeJitter;
  mixCorrect: boolean;
  atc: boolean;
  atcAuto: boolean;
  /** Merge-write latency in ms, as configured (WebRTC forces 0 itself). */
  mwLatency: number;
  /** Merge-write message count for RTMP/FLV: configured (max 128), else 8, or 0 when min_latency is on. */
  mwMsgs: number;
  /** ms (float). */
  sendMinInterval: number;
  reduceSequenceHeader: boolean;
}

export interface PublishConfig {
  /** Merged read, as configured (callers disable it in min_latency mode). */
  mr: boolean;
  /** ms */
  mrLatency: number;
  /** ms until the first packet. */
  firstpktTimeout: number;
  /** ms between packets. */
  normalTimeout: number;
  parseSps: boolean;
  tryAnnexbFirst: boolean;
  /** Seconds without players before the publisher is kicked; 0 = off. */
  kickoffForIdle: number;
}

export interface HttpRemuxConfig {
  enabled: boolean;
  mount: string;
  /** Seconds of audio for AAC/MP3 streams. */
  fastCache: number;
  dropIfNotMatch: boolean;
  hasAudio: boolean;
  hasVideo: boolean;
  guessHasAv: boolean;
}

export interface HttpStaticConfig {
  enabled: boolean;
  mount: string;
  dir: string;
}

export interface HlsConfig {
  enabled: boolean;
  /** Seconds (float). */
  fragment: number;
  tdRatio: number;
  aofRatio: number;
  /** Seconds (float). */
  window: number;
  onError: 'ignore' | 'disconnect' | 'continue';
  path: string;
  m3u8File: string;
  tsFile: string;
  tsFloor: boolean;
  entryPrefix: string;
  acodec: string;
  vcodec: string;
  cleanup: boolean;
  /** Seconds; 0 disables. */
  dispose: number;
  waitKeyframe: boolean;
  nbNotify: number;
  dtsDirectly: boolean;
  ctx: boolean;
  tsCtx: boolean;
  keys: boolean;
  fragmentsPerKey: number;
  keyFile: string;
  keyFilePath: string;
  keyUrl: string;
  /** Sluice extension: low-latency HLS (fMP4 parts, from memory) instead of TS files. */
  ll: boolean;
  /** Sluice extension: LL-HLS part target in seconds. */
  partDuration: number;
}

export interface HdsConfig {
  enabled: boolean;
  fragment: number;
  window: number;
  path: string;
}

/** SRS 7 RTSP playback: read for the reload diff only (Sluice has no RTSP server). */
interface RtspConfig {
  enabled: boolean;
  rtmpToRtsp: boolean;
}

export interface DashConfig {
  enabled: boolean;
  /** Seconds. */
  fragment: number;
  /** Seconds. */
  updatePeriod: number;
  /** Seconds. */
  timeshift: number;
  path: string;
  mpdFile: string;
  windowSize: number;
  cleanup: boolean;
  /** Seconds. */
  dispose: number;
}

export interface DvrConfig {
  enabled: boolean;
  /** `['all']` or a list of `app/stream`. */
  apply: string[];
  plan: 'session' | 'segment';
  path: string;
  /** Seconds. */
  duration: number;
  waitKeyframe: boolean;
  timeJitter: TimeJitter;
}

export interface HttpHooksConfig {
  enabled: boolean;
  onConnect: string[];
  onClose: string[];
  onPublish: string[];
  onUnpublish: string[];
  onPlay: string[];
  onStop: string[];
  onDvr: string[];
  onHls: string[];
  onHlsNotify: string[];
  /** Sluice extension: verify the certificate of an https:// hook server (default on). */
  tlsVerify: boolean;
}

export interface SecurityRule {
  action: 'allow' | 'deny';
  scope: 'publish' | 'play';
  /** `all`, an IP or an IPv4 CIDR. */
  target: string;
}

export interface SecurityConfig {
  enabled: boolean;
  rules: SecurityRule[];
}

export interface ReferConfig {
  enabled: boolean;
  all: string[];
  publish: string[];
  play: string[];
}

/** `jwt` (Sluice extension): stream authentication with JSON Web Tokens (docs/AUTH.md). */
export interface JwtConfig {
  enabled: boolean;
  /** HS256 shared secret, or ''. */
  secret: string;
  /** JWKS URL for RS256/ES256, or ''. */
  jwksUrl: string;
  /** Seconds of clock skew on exp/nbf. */
  leeway: number;
  expireSessions: boolean;
  /** Name of the claim with the grants. */
  claim: string;
  issuer: string;
  audience: string;
}

export interface ForwardConfig {
  enabled: boolean;
  /** `host[:port]` (default port 1935), `host:port/app/stream` or an `rtmp://` URL. */
  destinations: string[];
  /** First backend URL, or ''. */
  backend: string;
  /** Entries without a scheme go over RTMPS (SRS 7 `rtmps on`). */
  rtmps: boolean;
}

export interface ClusterConfig {
  mode: 'local' | 'remote';
  origins: string[];
  tokenTraverse: boolean;
  /** Vhost used toward the origin. */
  vhost: string;
  debugSrsUpnode: boolean;
  originCluster: boolean;
  coworkers: string[];
  protocol: 'rtmp' | 'flv' | 'flvs';
  followClient: boolean;
}

export interface VhostRtcConfig {
  enabled: boolean;
  nack: boolean;
  nackNoCopy: boolean;
  twcc: boolean;
  /** Seconds. */
  stunTimeout: number;
  stunStrictCheck: boolean;
  dtlsRole: string;
  dtlsVersion: string;
  dropForPt: number;
  rtmpToRtc: boolean;
  keepBframe: boolean;
  keepAvcNaluSei: boolean;
  opusBitrate: number;
  rtcToRtmp: boolean;
  /** Seconds. */
  pliForRtmp: number;
  aacBitrate: number;
}

export interface VhostSrtConfig {
  enabled: boolean;
  srtToRtmp: boolean;
}

export interface ExecConfig {
  enabled: boolean;
  /** Each `publish` directive's words (the config parser's words, quotes honoured): the argv before variables. */
  publish: string[][];
}

/** A block whose keys are free-form ffmpeg options (`perfile`, `vfilter`, `vparams`, `aparams`). */
export interface FfmpegOption {
  name: string;
  args: string[];
}

export interface TranscodeEngineConfig {
  name: string;
  enabled: boolean;
  perfile: FfmpegOption[];
  iformat: string;
  vfilter: FfmpegOption[];
  vcodec: string;
  vbitrate: number;
  vfps: number;
  vwidth: number;
  vheight: number;
  vthreads: number;
  vprofile: string;
  vpreset: string;
  vparams: FfmpegOption[];
  acodec: string;
  abitrate: number;
  asampleRate: number;
  achannels: number;
  aparams: FfmpegOption[];
  oformat: string;
  output: string;
}

export interface IngestConfig {
  id: string;
  enabled: boolean;
  input: { type: 'file' | 'stream'; url: string };
  ffmpeg: string;
  engines: TranscodeEngineConfig[];
}

export interface TranscodeConfig {
  /** `app` or `app/stream` ('' = every stream of the vhost). */
  scope: string;
  enabled: boolean;
  ffmpeg: string;
  engines: TranscodeEngineConfig[];
  /** Sluice's ABR ladder: the engines (and the source) in one HLS multivariant playlist. */
  abr: { enabled: boolean; source: boolean };
}

export interface VhostConfig {
  name: string;
  enabled: boolean;
  minLatency: boolean;
  tcpNodelay: boolean;
  /** RTMP out chunk size (global `chunk_size` when unset). */
  chunkSize: number;
  /** 0 = not set. */
  inAckSize: number;
  outAckSize: number;
  play: PlayConfig;
  publish: PublishConfig;
  httpRemux: HttpRemuxConfig;
  httpStatic: HttpStaticConfig;
  hls: HlsConfig;
  hds: HdsConfig;
  /** A `bandcheck` block is set (removed from SRS; read for the reload diff only). */
  bandcheck: boolean;
  dash: DashConfig;
  dvr: DvrConfig;
  httpHooks: HttpHooksConfig;
  security: SecurityConfig;
  refer: ReferConfig;
  jwt: JwtConfig;
  forward: ForwardConfig;
  cluster: ClusterConfig;
  rtsp: RtspConfig;
  rtc: VhostRtcConfig;
  srt: VhostSrtConfig;
  exec: ExecConfig;
  ingests: IngestConfig[];
  transcodes: TranscodeConfig[];
}

type V = VhostSchema;
type Block<N extends keyof V> = Scope<ChildrenOf<V[N]>>;
type EngineSchema = ChildrenOf<ChildrenOf<V['transcode']>['engine']>;

function timeJitter(text: string): TimeJitter {
  return text === 'full' || text === 'zero' ? text : 'off';
}

function clamp(value: number, min: number, max: number, fallback: number): number {
  return value < min || value > max ? fallback : value;
}

function play(s: Block<'play'>, minLatency: boolean): PlayConfig {
  const mwMsgsRaw = s.raw('mw_msgs');
  return {
    gopCache: s.get('gop_cache'),
    gopCacheMaxFrames: s.get('gop_cache_max_frames'),
    queueLength: s.get('queue_length'),
    timeJitter: timeJitter(s.get('time_jitter')),
    mixCorrect: s.get('mix_correct'),
    atc: s.get('atc'),
    atcAuto: s.get('atc_auto'),
    mwLatency: s.get('mw_latency'),
    mwMsgs: mwMsgsRaw === undefined ? (minLatency ? 0 : 8) : Math.max(0, Math.min(128, s.get('mw_msgs'))),
    sendMinInterval: s.get('send_min_interval'),
    reduceSequenceHeader: s.get('reduce_sequence_header'),
  };
}

function publish(s: Block<'publish'>): PublishConfig {
  return {
    mr: s.get('mr'),
    mrLatency: s.get('mr_latency'),
    firstpktTimeout: s.get('firstpkt_timeout'),
    normalTimeout: s.get('normal_timeout'),
    parseSps: s.get('parse_sps'),
    tryAnnexbFirst: s.get('try_annexb_first'),
    kickoffForIdle: s.get('kickoff_for_idle'),
  };
}

function hls(s: Block<'hls'>): HlsConfig {
  const path = s.get('hls_path');
  const onError = s.get('hls_on_error');
  return {
    enabled: s.get('enabled'),
    fragment: s.get('hls_fragment'),
    tdRatio: s.get('hls_td_ratio'),
    aofRatio: s.get('hls_aof_ratio'),
    window: s.get('hls_window'),
    onError: onError === 'ignore' || onError === 'continue' ? onError : 'disconnect',
    path,
    m3u8File: s.get('hls_m3u8_file'),
    tsFile: s.get('hls_ts_file'),
    tsFloor: s.get('hls_ts_floor'),
    entryPrefix: s.get('hls_entry_prefix'),
    acodec: s.get('hls_acodec'),
    vcodec: s.get('hls_vcodec'),
    cleanup: s.get('hls_cleanup'),
    dispose: s.get('hls_dispose'),
    waitKeyframe: s.get('hls_wait_keyframe'),
    nbNotify: s.get('hls_nb_notify'),
    dtsDirectly: s.get('hls_dts_directly'),
    ctx: s.get('hls_ctx'),
    tsCtx: s.get('hls_ts_ctx'),
    keys: s.get('hls_keys'),
    fragmentsPerKey: s.get('hls_fragments_per_key'),
    keyFile: s.get('hls_key_file'),
    // Both default to the (configured) hls_path.
    keyFilePath: s.get('hls_key_file_path', path),
    keyUrl: s.get('hls_key_url', path),
    ll: s.get('hls_ll'),
    partDuration: s.get('hls_part_duration'),
  };
}

function dvr(s: Block<'dvr'>): DvrConfig {
  return {
    enabled: s.get('enabled'),
    apply: s.get('dvr_apply'),
    plan: s.get('dvr_plan') === 'segment' ? 'segment' : 'session',
    path: s.get('dvr_path'),
    duration: s.get('dvr_duration'),
    waitKeyframe: s.get('dvr_wait_keyframe'),
    timeJitter: timeJitter(s.get('time_jitter')),
  };
}

function hooks(s: Block<'http_hooks'>): HttpHooksConfig {
  return {
    enabled: s.get('enabled'),
    onConnect: s.get('on_connect'),
    onClose: s.get('on_close'),
    onPublish: s.get('on_publish'),
    onUnpublish: s.get('on_unpublish'),
    onPlay: s.get('on_play'),
    onStop: s.get('on_stop'),
    onDvr: s.get('on_dvr'),
    onHls: s.get('on_hls'),
    onHlsNotify: s.get('on_hls_notify'),
    tlsVerify: s.get('tls_verify'),
  };
}

function security(s: Block<'security'>): SecurityConfig {
  const rules: SecurityRule[] = [];
  for (const d of s.node?.children ?? []) {
    if (d.name !== 'allow' && d.name !== 'deny') continue;
    const scope = d.args[0];
    if (scope !== 'publish' && scope !== 'play') continue; // SRS never matches other scopes
    for (const target of d.args.slice(1)) rules.push({ action: d.name, scope, target });
  }
  return { enabled: s.get('enabled'), rules };
}

function cluster(s: Block<'cluster'>): ClusterConfig {
  const protocol = s.get('protocol');
  return {
    mode: s.get('mode') === 'remote' ? 'remote' : 'local',
    origins: s.get('origin'),
    tokenTraverse: s.get('token_traverse'),
    vhost: s.get('vhost'),
    debugSrsUpnode: s.get('debug_srs_upnode'),
    originCluster: s.get('origin_cluster'),
    coworkers: s.get('coworkers'),
    protocol: protocol === 'flv' || protocol === 'flvs' ? protocol : 'rtmp',
    followClient: s.get('follow_client'),
  };
}

/** A number outside [min, max] falls back to the schema default (as SRS). */
function clamped(s: Block<'rtc'>, name: 'opus_bitrate' | 'aac_bitrate' | 'pli_for_rtmp', min: number, max: number): number {
  return clamp(s.get(name), min, max, VHOST.children.rtc.children[name].def);
}

function rtc(s: Block<'rtc'>): VhostRtcConfig {
  return {
    enabled: s.get('enabled'),
    nack: s.get('nack'),
    nackNoCopy: s.get('nack_no_copy'),
    twcc: s.get('twcc'),
    stunTimeout: s.get('stun_timeout'),
    stunStrictCheck: s.get('stun_strict_check'),
    dtlsRole: s.get('dtls_role'),
    dtlsVersion: s.get('dtls_version'),
    dropForPt: s.get('drop_for_pt'),
    rtmpToRtc: s.get('rtmp_to_rtc'),
    keepBframe: s.get('keep_bframe'),
    keepAvcNaluSei: s.get('keep_avc_nalu_sei'),
    opusBitrate: clamped(s, 'opus_bitrate', 8000, 320000),
    rtcToRtmp: s.get('rtc_to_rtmp'),
    pliForRtmp: clamped(s, 'pli_for_rtmp', 0.5, 30),
    aacBitrate: clamped(s, 'aac_bitrate', 8000, 320000),
  };
}

function options(d: ConfigDirective | undefined): FfmpegOption[] {
  return (d?.children ?? []).map((c) => ({ name: c.name, args: [...c.args] }));
}

function engine(s: Scope<EngineSchema>): TranscodeEngineConfig {
  return {
    name: s.node?.args[0] ?? '',
    enabled: s.get('enabled'),
    perfile: options(s.directive('perfile')),
    iformat: s.get('iformat'),
    vfilter: options(s.directive('vfilter')),
    vcodec: s.get('vcodec'),
    vbitrate: s.get('vbitrate'),
    vfps: s.get('vfps'),
    vwidth: s.get('vwidth'),
    vheight: s.get('vheight'),
    vthreads: s.get('vthreads'),
    vprofile: s.get('vprofile'),
    vpreset: s.get('vpreset'),
    vparams: options(s.directive('vparams')),
    acodec: s.get('acodec'),
    abitrate: s.get('abitrate'),
    asampleRate: s.get('asample_rate'),
    achannels: s.get('achannels'),
    aparams: options(s.directive('aparams')),
    oformat: s.get('oformat'),
    output: s.get('output'),
  };
}

/**
 * Builds one vhost's settings. `node` is undefined for a vhost that only exists
 * implicitly (env-only mode). `globalChunkSize` is the root `chunk_size`.
 */
export function buildVhostConfig(name: string, node: ConfigDirective | undefined, env: Env, globalChunkSize: number): VhostConfig {
  const v = new Scope(node, ['vhost'], env, VHOST.children);
  const minLatency = v.get('min_latency');
  const remux = v.child('http_remux');
  const stat = v.child('http_static');
  const hds = v.child('hds');
  const dash = v.child('dash');
  const refer = v.child('refer');
  const forward = v.child('forward');
  const jwt = v.child('jwt');
  const exec = v.child('exec');
  const srt = v.child('srt');
  return {
    name,
    enabled: v.get('enabled'),
    minLatency,
    tcpNodelay: v.get('tcp_nodelay'),
    chunkSize: v.get('chunk_size', globalChunkSize),
    inAckSize: v.get('in_ack_size'),
    outAckSize: v.get('out_ack_size'),
    play: play(v.child('play'), minLatency),
    publish: publish(v.child('publish')),
    httpRemux: {
      enabled: remux.get('enabled'),
      mount: remux.get('mount'),
      fastCache: remux.get('fast_cache'),
      dropIfNotMatch: remux.get('drop_if_not_match'),
      hasAudio: remux.get('has_audio'),
      hasVideo: remux.get('has_video'),
      guessHasAv: remux.get('guess_has_av'),
    },
    httpStatic: {
      enabled: stat.get('enabled'),
      mount: stat.get('mount'),
      dir: stat.get('dir'),
    },
    hls: hls(v.child('hls')),
    hds: {
      enabled: hds.get('enabled'),
      fragment: hds.get('hds_fragment'),
      window: hds.get('hds_window'),
      path: hds.get('hds_path'),
    },
    dash: {
      enabled: dash.get('enabled'),
      fragment: dash.get('dash_fragment'),
      updatePeriod: dash.get('dash_update_period'),
      timeshift: dash.get('dash_timeshift'),
      path: dash.get('dash_path'),
      mpdFile: dash.get('dash_mpd_file'),
      windowSize: dash.get('dash_window_size'),
      cleanup: dash.get('dash_cleanup'),
      dispose: dash.get('dash_dispose'),
    },
    dvr: dvr(v.child('dvr')),
    httpHooks: hooks(v.child('http_hooks')),
    security: security(v.child('security')),
    refer: {
      enabled: refer.get('enabled'),
      all: refer.get('all'),
      publish: refer.get('publish'),
      play: refer.get('play'),
    },
    jwt: {
      enabled: jwt.get('enabled'),
      secret: jwt.get('secret'),
      jwksUrl: jwt.get('jwks_url'),
      leeway: Math.max(0, jwt.get('leeway')),
      expireSessions: jwt.get('expire_sessions'),
      claim: jwt.get('claim'),
      issuer: jwt.get('issuer'),
      audience: jwt.get('audience'),
    },
    forward: {
      enabled: forward.get('enabled'),
      destinations: forward.get('destination'),
      backend: forward.get('backend'),
      rtmps: forward.get('rtmps'),
    },
    cluster: cluster(v.child('cluster')),
    rtc: rtc(v.child('rtc')),
    bandcheck: v.directives('bandcheck').length > 0,
    rtsp: {
      enabled: v.child('rtsp').get('enabled'),
      rtmpToRtsp: v.child('rtsp').get('rtmp_to_rtsp'),
    },
    srt: {
      enabled: srt.get('enabled'),
      srtToRtmp: srt.get('srt_to_rtmp'),
    },
    exec: {
      enabled: exec.get('enabled'),
      publish: exec.directives('publish').map((d) => [...d.args]),
    },
    ingests: v.each('ingest').map((s) => {
      const input = s.child('input');
      return {
        id: s.node?.args[0] ?? '',
        enabled: s.get('enabled'),
        input: { type: input.get('type') === 'stream' ? 'stream' : 'file', url: input.get('url') },
        ffmpeg: s.get('ffmpeg'),
        engines: s.each('engine').map(engine),
      };
    }),
    transcodes: v.each('transcode').map((s) => ({
      scope: s.node?.args[0] ?? '',
      enabled: s.get('enabled'),
      ffmpeg: s.get('ffmpeg'),
      engines: s.each('engine').map(engine),
      abr: { enabled: s.child('abr').get('enabled'), source: s.child('abr').get('source') },
    })),
  };
}
