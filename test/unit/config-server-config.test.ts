import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/parser.js';
import {
  defaultConfig,
  envOnlyConfig,
  loadConfig,
  parseConfigText,
  type Env,
  type ServerConfig,
} from '../../src/config/server-config.js';

function load(text: string, env: Env = {}): ServerConfig {
  return parseConfigText(text, 't.conf', env, () => null, { cwd: '/cwd' });
}

const MINIMAL = 'listen 1935;\nvhost __defaultVhost__ {\n}\n';

describe('typed config: defaults', () => {
  test('root defaults (contract §4.6 code values)', () => {
    const c = load(MINIMAL);
    assert.deepEqual(c.listen, [{ host: null, port: 1935 }]);
    assert.equal(c.maxConnections, 1000);
    assert.equal(c.chunkSize, 60000);
    assert.equal(c.pid, './objs/srs.pid');
    assert.equal(c.serverId, undefined);
    assert.equal(c.daemon, true);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.logTank, 'file');
    assert.equal(c.logFile, './objs/srs.log');
    assert.equal(c.graceStartWait, 2300);
    assert.equal(c.graceFinalWait, 3200);
    assert.equal(c.forceGraceQuit, false);
    assert.equal(c.workDir, './');
    assert.equal(c.pithyPrintMs, 10000);
    assert.equal(c.utcTime, false);
    assert.equal(c.file, 't.conf');
    assert.equal(c.envOnly, false);
    assert.deepEqual(c.warnings, []);
  });

  test('http_api / http_server / exporter / heartbeat / stats defaults', () => {
    const c = load(MINIMAL);
    assert.deepEqual(c.httpApi, {
      enabled: false,
      listen: { host: null, port: 1985 },
      crossdomain: true,
      auth: { enabled: false, type: '', username: '', password: '', token: '', readonlyToken: '', rtcBearer: false },
      https: { enabled: false, listen: { host: null, port: 1990 }, key: './conf/server.key', cert: './conf/server.crt' },
      rawApi: { enabled: false, allowReload: false, allowQuery: false, allowUpdate: false },
    });
    assert.deepEqual(c.httpServer, {
      enabled: false,
      listen: { host: null, port: 8080 },
      dir: './objs/nginx/html',
      crossdomain: true,
      https: { enabled: false, listen: { host: null, port: 8088 }, key: './conf/server.key', cert: './conf/server.crt' },
      http2: true,
    });
    assert.deepEqual(c.exporter, { enabled: false, listen: { host: null, port: 9972 }, label: '', tag: '' });
    assert.deepEqual(c.heartbeat, {
      enabled: false,
      interval: 10,
      url: 'http://127.0.0.1:8085/api/v1/servers',
      deviceId: '',
      summaries: false,
      ports: false,
    });
    assert.deepEqual(c.stats, { enabled: true, network: 0, disk: [] });
  });

  test('rtc_server and srt_server defaults', () => {
    const c = load(MINIMAL);
    assert.deepEqual(c.rtcServer, {
      enabled: false,
      listen: 8000,
      tcp: { enabled: false, listen: 8000 },
      protocol: 'udp',
      candidate: '*',
      useAutoDetectNetworkIp: true,
      ipFamily: 'ipv4',
      apiAsCandidates: true,
      resolveApiDomain: true,
      keepApiDomain: false,
      ecdsa: true,
      encrypt: true,
      reuseport: 1,
      mergeNalus: false,
      blackHole: { enabled: false, addr: '' },
      followClientAddress: true,
    });
    assert.deepEqual(c.srtServer, {
      enabled: false,
      listen: 10080,
      maxbw: -1,
      mss: 1500,
      connectTimeout: 3000,
      peerIdleTimeout: 10000,
      defaultApp: 'live',
      defaultStreamId: '#!::r=live/livestream,m=publish',
      defaultMode: 'play',
      peerLatency: 0,
      recvLatency: 120,
      latency: 120,
      tsbpdMode: true,
      tlpktDrop: true,
      sendBuf: 12058624,
      recvBuf: 12058624,
      payloadSize: 1316,
      passphrase: '',
      pbKeyLen: 0,
      seiFilter: true,
    });
  });

  test('vhost defaults', () => {
    const v = load(MINIMAL).getVhost('__defaultVhost__');
    assert.ok(v);
    assert.equal(v.name, '__defaultVhost__');
    assert.equal(v.enabled, true);
    assert.equal(v.minLatency, false);
    assert.equal(v.tcpNodelay, false);
    assert.equal(v.chunkSize, 60000);
    assert.equal(v.inAckSize, 0);
    assert.equal(v.outAckSize, 2500000);
    assert.deepEqual(v.play, {
      gopCache: true,
      gopCacheMaxFrames: 2500,
      queueLength: 30,
      timeJitter: 'full',
      mixCorrect: false,
      atc: false,
      atcAuto: false,
      mwLatency: 350,
      mwMsgs: 8,
      sendMinInterval: 0,
      reduceSequenceHeader: false,
    });
    assert.deepEqual(v.publish, {
      mr: false,
      mrLatency: 350,
      firstpktTimeout: 20000,
      normalTimeout: 5000,
      parseSps: true,
      tryAnnexbFirst: true,
      kickoffForIdle: 0,
    });
    assert.deepEqual(v.httpRemux, {
      enabled: false,
      mount: '[vhost]/[app]/[stream].flv',
      fastCache: 0,
      dropIfNotMatch: true,
      hasAudio: true,
      hasVideo: true,
      guessHasAv: true,
    });
    assert.deepEqual(v.httpStatic, { enabled: false, mount: '[vhost]/', dir: './objs/nginx/html' });
    assert.equal(v.hls.enabled, false);
    assert.equal(v.hls.fragment, 10);
    assert.equal(v.hls.tdRatio, 1);
    assert.equal(v.hls.aofRatio, 2.1);
    assert.equal(v.hls.window, 60);
    assert.equal(v.hls.onError, 'continue');
    assert.equal(v.hls.m3u8File, '[app]/[stream].m3u8');
    assert.equal(v.hls.tsFile, '[app]/[stream]-[seq].ts');
    assert.equal(v.hls.dispose, 120);
    assert.equal(v.hls.ctx, true);
    assert.equal(v.hls.keyUrl, './objs/nginx/html');
    assert.deepEqual(v.dash, {
      enabled: false,
      fragment: 10,
      updatePeriod: 5,
      timeshift: 300,
      path: './objs/nginx/html',
      mpdFile: '[app]/[stream].mpd',
      windowSize: 5,
      cleanup: true,
      dispose: 120,
    });
    assert.deepEqual(v.dvr, {
      enabled: false,
      apply: ['all'],
      plan: 'session',
      path: './objs/nginx/html/[app]/[stream].[timestamp].flv',
      duration: 30,
      waitKeyframe: true,
      timeJitter: 'full',
    });
    assert.equal(v.httpHooks.enabled, false);
    assert.deepEqual(v.httpHooks.onPublish, []);
    assert.deepEqual(v.security, { enabled: false, rules: [] });
    assert.deepEqual(v.forward, { enabled: false, destinations: [], backend: '', rtmps: false });
    assert.equal(v.cluster.mode, 'local');
    assert.equal(v.cluster.vhost, '[vhost]');
    assert.equal(v.cluster.debugSrsUpnode, true);
    assert.equal(v.cluster.protocol, 'rtmp');
    assert.equal(v.rtc.enabled, false);
    assert.equal(v.rtc.rtmpToRtc, false);
    assert.equal(v.rtc.rtcToRtmp, false);
    assert.equal(v.rtc.nack, true);
    assert.equal(v.rtc.opusBitrate, 48000);
    assert.equal(v.rtc.pliForRtmp, 6);
    assert.equal(v.rtc.dtlsRole, 'passive');
    assert.deepEqual(v.srt, { enabled: false, srtToRtmp: true });
  });

  test('vhost chunk_size falls back to the global one', () => {
    const c = load('listen 1935;\nchunk_size 4096;\nvhost a { }\nvhost b { chunk_size 128; }\n');
    assert.equal(c.getVhost('a')?.chunkSize, 4096);
    assert.equal(c.getVhost('b')?.chunkSize, 128);
  });

  test('mw_msgs: 8, 0 with min_latency, configured value capped at 128', () => {
    const c = load(
      'listen 1935;\nvhost a { }\nvhost b { min_latency on; play { mw_latency 0; } }\nvhost c { play { mw_msgs 500; } }\nvhost d { min_latency on; play { mw_msgs 4; } }\n',
    );
    assert.equal(c.getVhost('a')?.play.mwMsgs, 8);
    assert.equal(c.getVhost('b')?.play.mwMsgs, 0);
    assert.equal(c.getVhost('b')?.play.mwLatency, 0);
    assert.equal(c.getVhost('c')?.play.mwMsgs, 128);
    assert.equal(c.getVhost('d')?.play.mwMsgs, 4);
  });

  test('value parsing: atoi/atof, time_jitter, clamps, lists', () => {
    const c = load(
      'listen 1935;\nvhost a {\n play { queue_length 12.9; time_jitter bogus; send_min_interval 2.5x; }\n publish { kickoff_for_idle 1.5; normal_timeout abc; }\n rtc { opus_bitrate 1000; pli_for_rtmp 0.1; aac_bitrate 64000; }\n dvr { dvr_apply live/a live/b; dvr_plan segment; }\n http_hooks { enabled on; on_publish http://a/x http://b/y; }\n security { enabled on; allow play all; deny publish 1.2.3.4 10.0.0.0/8; allow bogus x; }\n}\n',
    );
    const v = c.getVhost('a');
    assert.ok(v);
    assert.equal(v.play.queueLength, 12);
    assert.equal(v.play.timeJitter, 'off');
    assert.equal(v.play.sendMinInterval, 2.5);
    assert.equal(v.publish.kickoffForIdle, 1.5);
    assert.equal(v.publish.normalTimeout, 0);
    assert.equal(v.rtc.opusBitrate, 48000);
    assert.equal(v.rtc.pliForRtmp, 6);
    assert.equal(v.rtc.aacBitrate, 64000);
    assert.deepEqual(v.dvr.apply, ['live/a', 'live/b']);
    assert.equal(v.dvr.plan, 'segment');
    assert.deepEqual(v.httpHooks.onPublish, ['http://a/x', 'http://b/y']);
    assert.deepEqual(v.security.rules, [
      { action: 'allow', scope: 'play', target: 'all' },
      { action: 'deny', scope: 'publish', target: '1.2.3.4' },
      { action: 'deny', scope: 'publish', target: '10.0.0.0/8' },
    ]);
  });

  test('ingest / transcode / exec typed', () => {
    const c = load(
      'listen 1935;\nvhost a {\n exec { enabled on; publish ./ffmpeg -i [url]; }\n ingest cam { enabled on; input { type stream; url rtmp://x/y; } ffmpeg ./ff; engine { enabled off; output rtmp://o/[stream]; } }\n transcode live { enabled on; ffmpeg ./ff; engine hd { enabled on; vcodec libx264; vbitrate 1500; vparams { t 100; preset fast; } output rtmp://o/[engine]; } }\n}\n',
    );
    const v = c.getVhost('a');
    assert.ok(v);
    assert.deepEqual(v.exec, { enabled: true, publish: [['./ffmpeg', '-i', '[url]']] });
    assert.equal(v.ingests[0].id, 'cam');
    assert.deepEqual(v.ingests[0].input, { type: 'stream', url: 'rtmp://x/y' });
    assert.equal(v.ingests[0].engines[0].output, 'rtmp://o/[stream]');
    assert.equal(v.transcodes[0].scope, 'live');
    assert.equal(v.transcodes[0].engines[0].name, 'hd');
    assert.equal(v.transcodes[0].engines[0].vbitrate, 1500);
    assert.deepEqual(v.transcodes[0].engines[0].vparams, [
      { name: 't', args: ['100'] },
      { name: 'preset', args: ['fast'] },
    ]);
    assert.equal(v.transcodes[0].engines[0].iformat, 'flv');
  });
});

describe('typed config: boolean families', () => {
  test('prefer-true is false only for "off"; prefer-false is true only for "on"', () => {
    const c = load(
      'listen 1935;\nvhost a {\n min_latency yes;\n tcp_nodelay ON;\n play { gop_cache no; atc on; }\n}\nvhost b {\n min_latency on;\n play { gop_cache off; }\n http_remux { has_audio 0; has_video off; }\n}\n',
    );
    const a = c.getVhost('a');
    const b = c.getVhost('b');
    assert.equal(a?.minLatency, false);
    assert.equal(a?.tcpNodelay, false);
    assert.equal(a?.play.gopCache, true);
    assert.equal(a?.play.atc, true);
    assert.equal(b?.minLatency, true);
    assert.equal(b?.play.gopCache, false);
    assert.equal(b?.httpRemux.hasAudio, true);
    assert.equal(b?.httpRemux.hasVideo, false);
  });
});

describe('typed config: vhost lookup', () => {
  test('exact match, then __defaultVhost__, then null; disabled vhosts are still found', () => {
    const c = load('listen 1935;\nvhost __defaultVhost__ { }\nvhost v.com { tcp_nodelay on; }\nvhost off.com { enabled off; }\n');
    assert.equal(c.getVhost('v.com')?.name, 'v.com');
    assert.equal(c.getVhost('v.com')?.tcpNodelay, true);
    assert.equal(c.getVhost('other.com')?.name, '__defaultVhost__');
    assert.equal(c.getVhost('off.com')?.enabled, false);
    const noDefault = load('listen 1935;\nvhost v.com { }\n');
    assert.equal(noDefault.getVhost('x.com'), null);
    assert.equal(noDefault.getVhost('v.com')?.name, 'v.com');
  });
});

describe('typed config: log levels', () => {
  const cases: [string, string][] = [
    ['srs_log_level verbose;', 'trace'],
    ['srs_log_level info;', 'debug'],
    ['srs_log_level trace;', 'info'],
    ['srs_log_level warn;', 'warn'],
    ['srs_log_level error;', 'error'],
    ['srs_log_level nonsense;', 'info'],
    ['srs_log_level error;\nsrs_log_level_v2 debug;', 'debug'],
    ['srs_log_level_v2 trace;', 'trace'],
    ['srs_log_level_v2 info;', 'info'],
    ['srs_log_level warn;\nsrs_log_level_v2 bad;', 'warn'],
  ];
  for (const [text, level] of cases) {
    test(`${text.replace('\n', ' ')} → ${level}`, () => {
      assert.equal(load(`listen 1935;\n${text}\n`).logLevel, level);
    });
  }
});

describe('typed config: env overrides', () => {
  test('non-empty env wins over the file; empty env is ignored', () => {
    const text = 'listen 1935;\nmax_connections 10;\nhttp_api { enabled off; listen 1985; }\n';
    const c = load(text, { SRS_LISTEN: '127.0.0.1:19350 [::1]:19351', SRS_MAX_CONNECTIONS: '', SRS_HTTP_API_ENABLED: 'on', SRS_HTTP_API_LISTEN: '2985' });
    assert.deepEqual(c.listen, [
      { host: '127.0.0.1', port: 19350 },
      { host: '::1', port: 19351 },
    ]);
    assert.equal(c.maxConnections, 10);
    assert.equal(c.httpApi.enabled, true);
    assert.equal(c.httpApi.listen.port, 2985);
  });

  test('SRS_VHOST_* applies to every vhost', () => {
    const c = load('listen 1935;\nvhost a { play { gop_cache on; } }\nvhost b { }\n', {
      SRS_VHOST_PLAY_GOP_CACHE: 'off',
      SRS_VHOST_HLS_HLS_FRAGMENT: '2.5',
      SRS_VHOST_HTTP_HOOKS_ON_PUBLISH: 'http://h/1  http://h/2',
      SRS_VHOST_MIN_LATENCY: 'on',
      SRS_VHOST_SRT_TO_RTMP: 'off',
    });
    for (const name of ['a', 'b']) {
      const v = c.getVhost(name);
      assert.equal(v?.play.gopCache, false);
      assert.equal(v?.hls.fragment, 2.5);
      assert.deepEqual(v?.httpHooks.onPublish, ['http://h/1', 'http://h/2']);
      assert.equal(v?.minLatency, true);
      assert.equal(v?.play.mwMsgs, 0);
      assert.equal(v?.srt.srtToRtmp, false);
    }
  });

  test('sections without env overrides ignore env', () => {
    const c = load('listen 1935;\nvhost a { forward { enabled off; } }\n', {
      SRS_VHOST_FORWARD_ENABLED: 'on',
      SRS_VHOST_SECURITY_ENABLED: 'on',
      SRS_STATS_NETWORK: '3',
    });
    assert.equal(c.getVhost('a')?.forward.enabled, false);
    assert.equal(c.getVhost('a')?.security.enabled, false);
    assert.equal(c.stats.network, 0);
  });

  test('global chunk_size is overridden by SRS_VHOST_CHUNK_SIZE, not SRS_CHUNK_SIZE', () => {
    assert.equal(load('listen 1935;\nchunk_size 4096;', { SRS_CHUNK_SIZE: '128' }).chunkSize, 4096);
    const c = load('listen 1935;\nchunk_size 4096;\nvhost a { }', { SRS_VHOST_CHUNK_SIZE: '8192' });
    assert.equal(c.chunkSize, 8192);
    assert.equal(c.getVhost('a')?.chunkSize, 8192);
  });

  test('log aliases', () => {
    const c = load('listen 1935;\nsrs_log_tank file;', { SRS_LOG_TANK: 'console', SRS_LOG_LEVEL: 'warn', SRS_LOG_FILE: '/tmp/x.log' });
    assert.equal(c.logTank, 'console');
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.logFile, '/tmp/x.log');
    assert.equal(load('listen 1935;', { SRS_SRS_LOG_LEVEL_V2: 'debug' }).logLevel, 'debug');
  });

  test('rtc candidate indirection', () => {
    const text = 'listen 1935;\nrtc_server { enabled on; candidate $CANDIDATE; }\n';
    assert.equal(load(text, { CANDIDATE: '192.168.1.10' }).rtcServer.candidate, '192.168.1.10');
    assert.equal(load(text, {}).rtcServer.candidate, '*');
    assert.equal(load(text, { SRS_RTC_SERVER_CANDIDATE: '$MYIP', MYIP: '10.0.0.1' }).rtcServer.candidate, '10.0.0.1');
    assert.equal(load(text, { SRS_RTC_SERVER_CANDIDATE: '1.1.1.1' }).rtcServer.candidate, '1.1.1.1');
  });

  test('a bad env listen is reported with the variable name', () => {
    try {
      load(MINIMAL, { SRS_LISTEN: '1935 99999' });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, 'SRS_LISTEN:0: invalid listen endpoint "99999": port must be 1..65535');
    }
  });

  test('env-only mode: -e or SRS_ENV_ONLY', () => {
    const a = envOnlyConfig({});
    assert.equal(a.envOnly, true);
    assert.equal(a.file, null);
    assert.deepEqual(a.listen, [{ host: null, port: 1935 }]);
    assert.equal(a.logTank, 'console');
    assert.equal(a.daemon, false);
    assert.equal(a.vhosts.length, 1);
    assert.equal(a.getVhost('any.com')?.name, '__defaultVhost__');

    const b = loadConfig('/does/not/exist.conf', { SRS_ENV_ONLY: 'on', SRS_LISTEN: '1936', SRS_HTTP_SERVER_ENABLED: 'on', SRS_VHOST_HTTP_REMUX_ENABLED: 'on' });
    assert.deepEqual(b.listen, [{ host: null, port: 1936 }]);
    assert.equal(b.httpServer.enabled, true);
    assert.equal(b.getVhost('x')?.httpRemux.enabled, true);
    assert.equal(parseConfigText('garbage {', 't', {}, undefined, { envOnly: true }).envOnly, true);
  });

  test('environment is only what is passed in', () => {
    process.env.SRS_LISTEN = '4444';
    try {
      assert.deepEqual(load(MINIMAL).listen, [{ host: null, port: 1935 }]);
    } finally {
      delete process.env.SRS_LISTEN;
    }
  });
});

describe('typed config: files', () => {
  test('loadConfig reads includes; SRS_CONFIG_FILE overrides the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cfg-'));
    try {
      writeFileSync(join(dir, 'a.conf'), 'listen 1935;\ninclude v.conf;\n');
      writeFileSync(join(dir, 'v.conf'), 'vhost __defaultVhost__ { play { queue_length 7; } }\n');
      writeFileSync(join(dir, 'b.conf'), 'listen 2935;\n');
      const a = loadConfig(join(dir, 'a.conf'), {});
      assert.equal(a.getVhost('x')?.play.queueLength, 7);
      assert.equal(a.file, join(dir, 'a.conf'));
      const b = loadConfig(join(dir, 'a.conf'), { SRS_CONFIG_FILE: join(dir, 'b.conf') });
      assert.deepEqual(b.listen, [{ host: null, port: 2935 }]);
      assert.equal(b.file, join(dir, 'b.conf'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('built-in default config', () => {
    const c = defaultConfig({});
    assert.equal(c.file, null);
    assert.deepEqual(c.listen, [{ host: null, port: 1935 }]);
    assert.equal(c.maxConnections, 1000);
    assert.equal(c.httpApi.enabled, true);
    assert.equal(c.httpApi.listen.port, 1985);
    assert.equal(c.httpServer.enabled, true);
    assert.equal(c.httpServer.listen.port, 8080);
    assert.equal(c.httpServer.dir, './objs/nginx/html');
    assert.equal(c.logTank, 'console');
    const v = c.getVhost('anything');
    assert.equal(v?.name, '__defaultVhost__');
    assert.equal(v?.httpRemux.enabled, true);
    assert.equal(v?.httpRemux.mount, '[vhost]/[app]/[stream].flv');
    assert.deepEqual(c.warnings, []);
    assert.equal(defaultConfig({ SRS_HTTP_API_LISTEN: '2000' }).httpApi.listen.port, 2000);
  });
});
