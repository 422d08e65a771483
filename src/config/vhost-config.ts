// Typed per-vhost settings with the code defaults of contract §4.6. Env overrides
// `SRS_VHOST_*` apply to every vhost; security/refer/forward/cluster/exec/ingest/
// transcode have none (contract §4.4).

import type { ConfigDirective } from './parser.js';
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

export interface ForwardConfig {
  enabled: boolean;
  /** `host[:port]` (default port 1935). */
  destinations: string[];
  /** First backend URL, or ''. */
  backend: string;
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
  /** Each `publish` directive's command line (args joined by a space). */
  publish: string[];
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
  dash: DashConfig;
  dvr: DvrConfig;
  httpHooks: HttpHooksConfig;
  security: SecurityConfig;
  refer: ReferConfig;
  forward: ForwardConfig;
  cluster: ClusterConfig;
  rtc: VhostRtcConfig;
  srt: VhostSrtConfig;
  exec: ExecConfig;
  ingests: IngestConfig[];
  transcodes: TranscodeConfig[];
}

const HTML_DIR = './objs/nginx/html';

function timeJitter(text: string): TimeJitter {
  return text === 'full' || text === 'zero' ? text : 'off';
}

function clamp(value: number, min: number, max: number, fallback: number): number {
  return value < min || value > max ? fallback : value;
}

function play(s: Scope, minLatency: boolean): PlayConfig {
  const mwMsgsRaw = s.raw('mw_msgs');
  return {
    gopCache: s.bool('gop_cache', true),
    gopCacheMaxFrames: s.int('gop_cache_max_frames', 2500),
    queueLength: s.int('queue_length', 30),
    timeJitter: timeJitter(s.str('time_jitter', 'full')),
    mixCorrect: s.bool('mix_correct', false),
    atc: s.bool('atc', false),
    atcAuto: s.bool('atc_auto', false),
    mwLatency: s.int('mw_latency', 350),
    mwMsgs: mwMsgsRaw === undefined ? (minLatency ? 0 : 8) : Math.max(0, Math.min(128, s.int('mw_msgs', 8))),
    sendMinInterval: s.float('send_min_interval', 0),
    reduceSequenceHeader: s.bool('reduce_sequence_header', false),
  };
}

function publish(s: Scope): PublishConfig {
  return {
    mr: s.bool('mr', false),
    mrLatency: s.int('mr_latency', 350),
    firstpktTimeout: s.int('firstpkt_timeout', 20000),
    normalTimeout: s.int('normal_timeout', 5000),
    parseSps: s.bool('parse_sps', true),
    tryAnnexbFirst: s.bool('try_annexb_first', true),
    kickoffForIdle: s.float('kickoff_for_idle', 0),
  };
}

function hls(s: Scope): HlsConfig {
  const path = s.str('hls_path', HTML_DIR);
  const onError = s.str('hls_on_error', 'continue');
  return {
    enabled: s.bool('enabled', false),
    fragment: s.float('hls_fragment', 10),
    tdRatio: s.float('hls_td_ratio', 1.0),
    aofRatio: s.float('hls_aof_ratio', 2.1),
    window: s.float('hls_window', 60),
    onError: onError === 'ignore' || onError === 'continue' ? onError : 'disconnect',
    path,
    m3u8File: s.str('hls_m3u8_file', '[app]/[stream].m3u8'),
    tsFile: s.str('hls_ts_file', '[app]/[stream]-[seq].ts'),
    tsFloor: s.bool('hls_ts_floor', false),
    entryPrefix: s.str('hls_entry_prefix', ''),
    acodec: s.str('hls_acodec', 'aac'),
    vcodec: s.str('hls_vcodec', 'h264'),
    cleanup: s.bool('hls_cleanup', true),
    dispose: s.int('hls_dispose', 120),
    waitKeyframe: s.bool('hls_wait_keyframe', true),
    nbNotify: s.int('hls_nb_notify', 64),
    dtsDirectly: s.bool('hls_dts_directly', true),
    ctx: s.bool('hls_ctx', true),
    tsCtx: s.bool('hls_ts_ctx', true),
    keys: s.bool('hls_keys', false),
    fragmentsPerKey: s.int('hls_fragments_per_key', 5),
    keyFile: s.str('hls_key_file', '[app]/[stream]-[seq].key'),
    keyFilePath: s.str('hls_key_file_path', path),
    keyUrl: s.str('hls_key_url', path),
    ll: s.bool('hls_ll', false),
    partDuration: s.float('hls_part_duration', 0.5),
  };
}

function dvr(s: Scope): DvrConfig {
  const apply = s.list('dvr_apply');
  return {
    enabled: s.bool('enabled', false),
    apply: apply.length === 0 ? ['all'] : apply,
    plan: s.str('dvr_plan', 'session') === 'segment' ? 'segment' : 'session',
    path: s.str('dvr_path', `${HTML_DIR}/[app]/[stream].[timestamp].flv`),
    duration: s.int('dvr_duration', 30),
    waitKeyframe: s.bool('dvr_wait_keyframe', true),
    timeJitter: timeJitter(s.str('time_jitter', 'full')),
  };
}

function hooks(s: Scope): HttpHooksConfig {
  return {
    enabled: s.bool('enabled', false),
    onConnect: s.list('on_connect'),
    onClose: s.list('on_close'),
    onPublish: s.list('on_publish'),
    onUnpublish: s.list('on_unpublish'),
    onPlay: s.list('on_play'),
    onStop: s.list('on_stop'),
    onDvr: s.list('on_dvr'),
    onHls: s.list('on_hls'),
    onHlsNotify: s.list('on_hls_notify'),
  };
}

function security(s: Scope): SecurityConfig {
  const rules: SecurityRule[] = [];
  for (const d of s.node?.children ?? []) {
    if (d.name !== 'allow' && d.name !== 'deny') continue;
    const scope = d.args[0];
    if (scope !== 'publish' && scope !== 'play') continue; // SRS never matches other scopes
    for (const target of d.args.slice(1)) rules.push({ action: d.name, scope, target });
  }
  return { enabled: s.bool('enabled', false), rules };
}

function cluster(s: Scope): ClusterConfig {
  const protocol = s.str('protocol', 'rtmp');
  return {
    mode: s.str('mode', 'local') === 'remote' ? 'remote' : 'local',
    origins: s.list('origin'),
    tokenTraverse: s.bool('token_traverse', false),
    vhost: s.str('vhost', '[vhost]'),
    debugSrsUpnode: s.bool('debug_srs_upnode', true),
    originCluster: s.bool('origin_cluster', false),
    coworkers: s.list('coworkers'),
    protocol: protocol === 'flv' || protocol === 'flvs' ? protocol : 'rtmp',
    followClient: s.bool('follow_client', false),
  };
}

function rtc(s: Scope): VhostRtcConfig {
  return {
    enabled: s.bool('enabled', false),
    nack: s.bool('nack', true),
    nackNoCopy: s.bool('nack_no_copy', true),
    twcc: s.bool('twcc', true),
    stunTimeout: s.float('stun_timeout', 30),
    stunStrictCheck: s.bool('stun_strict_check', false),
    dtlsRole: s.str('dtls_role', 'passive'),
    dtlsVersion: s.str('dtls_version', 'auto'),
    dropForPt: s.int('drop_for_pt', 0),
    rtmpToRtc: s.bool('rtmp_to_rtc', false),
    keepBframe: s.bool('keep_bframe', false),
    keepAvcNaluSei: s.bool('keep_avc_nalu_sei', true),
    opusBitrate: clamp(s.int('opus_bitrate', 48000), 8000, 320000, 48000),
    rtcToRtmp: s.bool('rtc_to_rtmp', false),
    pliForRtmp: clamp(s.float('pli_for_rtmp', 6.0), 0.5, 30, 6.0),
    aacBitrate: clamp(s.int('aac_bitrate', 48000), 8000, 320000, 48000),
  };
}

function options(d: ConfigDirective | undefined): FfmpegOption[] {
  return (d?.children ?? []).map((c) => ({ name: c.name, args: [...c.args] }));
}

function engine(d: ConfigDirective, env: Env): TranscodeEngineConfig {
  const s = new Scope(d, null, env);
  return {
    name: d.args[0] ?? '',
    enabled: s.bool('enabled', false),
    perfile: options(s.directive('perfile')),
    iformat: s.str('iformat', 'flv'),
    vfilter: options(s.directive('vfilter')),
    vcodec: s.str('vcodec', ''),
    vbitrate: s.int('vbitrate', 0),
    vfps: s.float('vfps', 0),
    vwidth: s.int('vwidth', 0),
    vheight: s.int('vheight', 0),
    vthreads: s.int('vthreads', 1),
    vprofile: s.str('vprofile', ''),
    vpreset: s.str('vpreset', ''),
    vparams: options(s.directive('vparams')),
    acodec: s.str('acodec', ''),
    abitrate: s.int('abitrate', 0),
    asampleRate: s.int('asample_rate', 0),
    achannels: s.int('achannels', 0),
    aparams: options(s.directive('aparams')),
    oformat: s.str('oformat', 'flv'),
    output: s.str('output', ''),
  };
}

/**
 * Builds one vhost's settings. `node` is undefined for a vhost that only exists
 * implicitly (env-only mode). `globalChunkSize` is the root `chunk_size`.
 */
export function buildVhostConfig(name: string, node: ConfigDirective | undefined, env: Env, globalChunkSize: number): VhostConfig {
  const v = new Scope(node, ['vhost'], env);
  const noEnv = v.withoutEnv();
  const minLatency = v.bool('min_latency', false);
  const remux = v.child('http_remux');
  const stat = v.child('http_static');
  const hds = v.child('hds');
  const dash = v.child('dash');
  const refer = noEnv.child('refer');
  const forward = noEnv.child('forward');
  const exec = noEnv.child('exec');
  const srt = v.child('srt');
  return {
    name,
    enabled: noEnv.bool('enabled', true),
    minLatency,
    tcpNodelay: v.bool('tcp_nodelay', false),
    chunkSize: v.int('chunk_size', globalChunkSize),
    inAckSize: v.int('in_ack_size', 0),
    outAckSize: v.int('out_ack_size', 2500000),
    play: play(v.child('play'), minLatency),
    publish: publish(v.child('publish')),
    httpRemux: {
      enabled: remux.bool('enabled', false),
      mount: remux.str('mount', '[vhost]/[app]/[stream].flv'),
      fastCache: remux.float('fast_cache', 0),
      dropIfNotMatch: remux.bool('drop_if_not_match', true),
      hasAudio: remux.bool('has_audio', true),
      hasVideo: remux.bool('has_video', true),
      guessHasAv: remux.bool('guess_has_av', true),
    },
    httpStatic: {
      enabled: stat.bool('enabled', false),
      mount: stat.str('mount', '[vhost]/'),
      dir: stat.str('dir', HTML_DIR),
    },
    hls: hls(v.child('hls')),
    hds: {
      enabled: hds.bool('enabled', false),
      fragment: hds.float('hds_fragment', 10),
      window: hds.float('hds_window', 60),
      path: hds.str('hds_path', HTML_DIR),
    },
    dash: {
      enabled: dash.bool('enabled', false),
      fragment: dash.float('dash_fragment', 10),
      updatePeriod: dash.float('dash_update_period', 5),
      timeshift: dash.float('dash_timeshift', 300),
      path: dash.str('dash_path', HTML_DIR),
      mpdFile: dash.str('dash_mpd_file', '[app]/[stream].mpd'),
      windowSize: dash.int('dash_window_size', 5),
      cleanup: dash.bool('dash_cleanup', true),
      dispose: dash.float('dash_dispose', 120),
    },
    dvr: dvr(v.child('dvr')),
    httpHooks: hooks(v.child('http_hooks')),
    security: security(noEnv.child('security')),
    refer: {
      enabled: refer.bool('enabled', false),
      all: refer.list('all'),
      publish: refer.list('publish'),
      play: refer.list('play'),
    },
    forward: {
      enabled: forward.bool('enabled', false),
      destinations: forward.list('destination'),
      backend: forward.str('backend', ''),
    },
    cluster: cluster(noEnv.child('cluster')),
    rtc: rtc(v.child('rtc')),
    srt: {
      enabled: srt.bool('enabled', false),
      srtToRtmp: srt.bool('srt_to_rtmp', true, ['SRS_VHOST_SRT_TO_RTMP']),
    },
    exec: {
      enabled: exec.bool('enabled', false),
      publish: exec.directives('publish').map((d) => d.args.join(' ')),
    },
    ingests: noEnv.directives('ingest').map((d) => {
      const s = new Scope(d, null, env);
      const input = s.child('input');
      return {
        id: d.args[0] ?? '',
        enabled: s.bool('enabled', false),
        input: { type: input.str('type', 'file') === 'stream' ? 'stream' : 'file', url: input.str('url', '') },
        ffmpeg: s.str('ffmpeg', ''),
        engines: s.directives('engine').map((e) => engine(e, env)),
      };
    }),
    transcodes: noEnv.directives('transcode').map((d) => {
      const s = new Scope(d, null, env);
      return {
        scope: d.args[0] ?? '',
        enabled: s.bool('enabled', false),
        ffmpeg: s.str('ffmpeg', ''),
        engines: s.directives('engine').map((e) => engine(e, env)),
      };
    }),
  };
}
