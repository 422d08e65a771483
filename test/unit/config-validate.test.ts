import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, findChild, parseConfigTree, type ConfigDirective } from '../../src/config/parser.js';
import { transformLegacy, validateConfig } from '../../src/config/validate.js';
import { parseConfigText, type Env } from '../../src/config/server-config.js';
import { formatEndpoint, parseEndpoint } from '../../src/config/endpoint.js';

function load(text: string, env: Env = {}) {
  return parseConfigText(text, 't.conf', env, () => null, { cwd: '/cwd' });
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

function loadError(text: string, env: Env = {}): string {
  return errorOf(() => load(text, env)).message;
}

describe('validation: directive whitelists', () => {
  test('unknown root directive is fatal with its line', () => {
    assert.equal(loadError('listen 1935;\nfoo bar;\n'), 't.conf:2: illegal directive "foo"');
  });

  const blocks: [string, string][] = [
    ['http_api { %; }', 'http_api'],
    ['http_api { raw_api { %; } }', 'http_api.raw_api'],
    ['http_api { auth { %; } }', 'http_api.auth'],
    ['http_api { https { %; } }', 'http_api.https'],
    ['http_server { %; }', 'http_server'],
    ['http_server { https { %; } }', 'http_server.https'],
    ['rtc_server { %; }', 'rtc_server'],
    ['rtc_server { tcp { %; } }', 'rtc_server.tcp'],
    ['srt_server { %; }', 'srt_server'],
    ['stats { %; }', 'stats'],
    ['exporter { %; }', 'exporter'],
    ['heartbeat { %; }', 'heartbeat'],
    ['circuit_breaker { %; }', 'circuit_breaker'],
    ['stream_caster { %; }', 'stream_caster'],
    ['stream_caster { sip { %; } }', 'stream_caster.sip'],
    ['vhost v { %; }', 'vhost'],
  ];
  for (const sub of [
    'play',
    'publish',
    'http_remux',
    'http_static',
    'hls',
    'hds',
    'dash',
    'dvr',
    'http_hooks',
    'security',
    'refer',
    'forward',
    'cluster',
    'rtc',
    'srt',
    'exec',
    'ingest',
    'transcode',
  ]) {
    blocks.push([`vhost v { ${sub} { %; } }`, `vhost.${sub}`]);
  }
  blocks.push(['vhost v { ingest i { input { %; } } }', 'vhost.ingest.input']);
  blocks.push(['vhost v { transcode { engine e { %; } } }', 'vhost.transcode.engine']);
  blocks.push(['vhost v { ingest i { engine e { %; } } }', 'vhost.ingest.engine']);

  for (const [shape, path] of blocks) {
    test(`unknown directive inside ${path}`, () => {
      const text = `listen 1935;\n${shape.replace('%', 'bogus_key 1')}\n`;
      assert.equal(loadError(text), `t.conf:2: illegal directive "${path}.bogus_key"`);
    });
  }

  test('every documented directive is accepted', () => {
    const cfg = load(`
listen 1935; pid ./objs/srs.pid; chunk_size 60000; ff_log_dir ./objs; ff_log_level info;
srs_log_tank console; srs_log_level trace; srs_log_level_v2 info; srs_log_file ./objs/srs.log;
max_connections 1000; daemon off; pithy_print_ms 10000; utc_time off; work_dir ./; asprocess off;
server_id vid-1; grace_final_wait 3200; force_grace_quit off; grace_start_wait 2300; empty_ip_ok on;
disable_daemon_for_docker on; inotify_auto_reload off; auto_reload_for_docker on; tcmalloc_release_rate 0.8;
query_latest_version off; first_wait_for_qlv 300; in_docker off; is_full off;
threads { interval 5; }
circuit_breaker { enabled on; high_threshold 90; high_pulse 2; critical_threshold 95; critical_pulse 1; dying_threshold 99; dying_pulse 5; }
tencentcloud_cls { enabled off; anything goes; }
tencentcloud_apm { enabled off; whatever 1; }
heartbeat { enabled off; interval 10; url http://127.0.0.1:8085/api/v1/servers; device_id x; summaries off; ports off; }
stats { enabled on; network 0; disk sda; }
exporter { enabled off; listen 9972; label a; tag b; }
http_api { enabled on; listen 1985; crossdomain on; raw_api { enabled off; allow_reload off; allow_query off; allow_update off; } auth { enabled off; username u; password p; } https { enabled off; listen 1990; key k; cert c; } }
http_server { enabled on; listen 8080; dir ./objs/nginx/html; crossdomain on; https { enabled off; listen 8088; key k; cert c; } }
rtc_server { enabled on; listen 8000; tcp { enabled off; listen 8000; } protocol udp; candidate *; use_auto_detect_network_ip on; ip_family ipv4; api_as_candidates on; resolve_api_domain on; keep_api_domain off; ecdsa on; encrypt on; reuseport 1; merge_nalus off; black_hole { enabled off; addr 1.2.3.4:5; } }
srt_server { enabled off; listen 10080; maxbw -1; mss 1500; connect_timeout 3000; peer_idle_timeout 10000; default_app live; peerlatency 0; recvlatency 120; latency 120; tsbpdmode on; tlpktdrop on; sendbuf 1; recvbuf 1; payloadsize 1316; passphrase 0123456789; pbkeylen 0; sei_filter on; mix_correct off; }
stream_caster { enabled off; caster flv; output rtmp://127.0.0.1/[app]/[stream]; listen 8936; sip { enabled on; listen 5060; timeout 60; reinvite 5; candidate *; } }
vhost v {
  enabled on; min_latency off; tcp_nodelay off; chunk_size 60000; in_ack_size 0; out_ack_size 2500000;
  play { gop_cache on; gop_cache_max_frames 2500; queue_length 30; time_jitter full; mix_correct off; atc off; atc_auto off; mw_latency 350; mw_msgs 8; send_min_interval 0; reduce_sequence_header off; }
  publish { mr off; mr_latency 350; firstpkt_timeout 20000; normal_timeout 5000; parse_sps on; try_annexb_first on; kickoff_for_idle 0; }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; fast_cache 0; drop_if_not_match on; has_audio on; has_video on; guess_has_av on; }
  http_static { enabled off; mount [vhost]/; dir ./objs/nginx/html; }
  hls { enabled off; hls_fragment 10; hls_td_ratio 1.0; hls_aof_ratio 2.1; hls_window 60; hls_on_error continue; hls_path ./x; hls_m3u8_file a.m3u8; hls_ts_file a.ts; hls_ts_floor off; hls_entry_prefix http://x; hls_acodec aac; hls_vcodec h264; hls_cleanup on; hls_dispose 120; hls_wait_keyframe on; hls_nb_notify 64; hls_dts_directly on; hls_ctx on; hls_ts_ctx on; hls_keys off; hls_fragments_per_key 5; hls_key_file k; hls_key_file_path p; hls_key_url u; }
  hds { enabled off; hds_fragment 10; hds_window 60; hds_path ./x; }
  dash { enabled off; dash_fragment 10; dash_update_period 5; dash_timeshift 300; dash_path ./x; dash_mpd_file a.mpd; dash_window_size 5; dash_cleanup on; dash_dispose 120; }
  dvr { enabled off; dvr_apply all; dvr_plan session; dvr_path ./x.flv; dvr_duration 30; dvr_wait_keyframe on; time_jitter full; }
  http_hooks { enabled off; on_connect http://a; on_close http://a; on_publish http://a; on_unpublish http://a; on_play http://a; on_stop http://a; on_dvr http://a; on_hls http://a; on_hls_notify http://a; }
  security { enabled off; allow play all; deny publish 1.2.3.4; }
  refer { enabled off; all a.com; publish a.com; play a.com; }
  forward { enabled off; destination 127.0.0.1:19350; backend http://b; }
  cluster { mode local; origin 127.0.0.1; token_traverse off; vhost x; debug_srs_upnode on; origin_cluster off; coworkers 127.0.0.1:1985; protocol rtmp; follow_client off; }
  rtc { enabled off; nack on; nack_no_copy on; twcc on; stun_timeout 30; stun_strict_check off; dtls_role passive; dtls_version auto; drop_for_pt 0; rtmp_to_rtc off; keep_bframe off; keep_avc_nalu_sei on; opus_bitrate 48000; rtc_to_rtmp off; pli_for_rtmp 6.0; aac_bitrate 48000; }
  srt { enabled off; srt_to_rtmp on; }
  exec { enabled off; publish ./objs/ffmpeg -i rtmp://127.0.0.1/[app]/[stream]; }
  ingest i1 { enabled off; input { type file; url ./a.flv; } ffmpeg ./ffmpeg; engine { enabled off; output rtmp://x; } }
  transcode live { enabled off; ffmpeg ./ffmpeg; engine e { enabled off; perfile { re; } iformat flv; vfilter { i x.png; } vcodec libx264; vbitrate 1500; vfps 25; vwidth 768; vheight 320; vthreads 12; vprofile main; vpreset medium; vparams { t 100; } acodec libfdk_aac; abitrate 70; asample_rate 44100; achannels 2; aparams { profile:a aac_low; } oformat flv; output rtmp://x/[app]?vhost=[vhost]/[stream]_[engine]; } }
}
`);
    assert.equal(cfg.vhosts.length, 1);
  });
});

describe('validation: values and cross rules', () => {
  test('listen is required, with params', () => {
    assert.equal(loadError('max_connections 10;\n'), 't.conf:0: listen requires params');
    assert.equal(loadError('max_connections 10;\nlisten "";\n'), 't.conf:2: listen requires params');
  });

  test('listen endpoint syntax', () => {
    for (const good of ['1935', '127.0.0.1:1935', '0.0.0.0:1', '[::1]:1935', '[::]:65535', '::1:1935']) {
      const r = parseEndpoint(good);
      assert.ok(r.ok, good);
    }
    assert.deepEqual(parseEndpoint('[::1]:1935'), { ok: true, endpoint: { host: '::1', port: 1935 } });
    assert.deepEqual(parseEndpoint('10.0.0.1:80'), { ok: true, endpoint: { host: '10.0.0.1', port: 80 } });
    assert.equal(formatEndpoint({ host: '::1', port: 1 }), '[::1]:1');
    assert.equal(formatEndpoint({ host: null, port: 1935 }), '1935');
    for (const bad of ['0', '65536', 'abc', '1.2.3.4:', ':1935', 'localhost:1935', '[1.2.3.4]:1', '19 35', '-1', '1e3']) {
      assert.equal(parseEndpoint(bad).ok, false, bad);
    }
    assert.equal(
      loadError('listen 1935 70000;\n'),
      't.conf:1: invalid listen endpoint "70000": port must be 1..65535',
    );
    assert.equal(
      loadError('listen 1935;\nhttp_api {\n  listen nope:1;\n}\n'),
      't.conf:3: http_api.listen: invalid listen endpoint "nope:1": host must be an IP address',
    );
  });

  test('max_connections must be > 0', () => {
    assert.equal(loadError('listen 1935;\nmax_connections 0;\n'), 't.conf:2: max_connections must be > 0, got "0"');
    assert.equal(loadError('listen 1935;\nmax_connections abc;\n'), 't.conf:2: max_connections must be > 0, got "abc"');
    assert.equal(load('listen 1935;\nmax_connections 5;').maxConnections, 5);
  });

  test('vhost needs a name', () => {
    assert.equal(loadError('listen 1935;\nvhost {\n}\n'), 't.conf:2: vhost requires a name');
  });

  test('empty config is refused', () => {
    assert.equal(loadError(''), 't.conf:0: conf is empty');
    assert.equal(loadError('# only a comment\n'), 't.conf:0: conf is empty');
  });

  test('one http_remux per vhost', () => {
    const text = 'listen 1935;\nvhost a {\n  http_remux { enabled on; }\n  http_remux { enabled off; }\n}\n';
    assert.equal(loadError(text), 't.conf:4: vhost a: only one http_remux is allowed per vhost');
  });

  test('hls conflicts with a .ts http_remux mount', () => {
    const text =
      'listen 1935;\nvhost a {\n  hls { enabled on; }\n  http_remux {\n    enabled on;\n    mount [vhost]/[app]/[stream].ts;\n  }\n}\n';
    assert.equal(
      loadError(text),
      't.conf:6: vhost a: hls conflicts with http_remux mount "[vhost]/[app]/[stream].ts" (.ts)',
    );
    // fine with HLS off, or with .flv
    load(text.replace('hls { enabled on; }', 'hls { enabled off; }'));
    load(text.replace('.ts;', '.flv;'));
  });

  test('duplicate vhosts: first wins, with a warning', () => {
    const cfg = load('listen 1935;\nvhost a { tcp_nodelay on; }\nvhost a { tcp_nodelay off; }\n');
    assert.equal(cfg.vhosts.length, 1);
    assert.equal(cfg.getVhost('a')?.tcpNodelay, true);
    assert.deepEqual(cfg.warnings, ['t.conf:3: duplicated vhost "a" ignored (first at t.conf:2)']);
  });

  test('forward conflicts with kickoff_for_idle', () => {
    const text = 'listen 1935;\nvhost a {\n  forward { enabled on; destination 1.2.3.4; }\n  publish {\n    kickoff_for_idle 10;\n  }\n}\n';
    assert.equal(loadError(text), 't.conf:5: vhost a: forward conflicts with publish.kickoff_for_idle');
  });

  test('ingest ids are unique per vhost', () => {
    const text = 'listen 1935;\nvhost a {\n  ingest x { }\n  ingest x { }\n}\nvhost b { ingest x { } }\n';
    assert.equal(loadError(text), 't.conf:4: vhost a: duplicated ingest id "x"');
  });

  test('daemon + asprocess, is_full, heartbeat.interval, stats.network, dvr_plan, log file', () => {
    assert.equal(loadError('listen 1935;\nasprocess on;\n'), 't.conf:2: daemon conflicts with asprocess');
    load('listen 1935;\ndaemon off;\nasprocess on;\n');
    assert.equal(
      loadError('listen 1935;\nis_full on;\n'),
      't.conf:2: full.conf is a reference, not a usable config (is_full on)',
    );
    assert.equal(loadError('listen 1935;\nheartbeat {\n interval 0;\n}\n'), 't.conf:3: heartbeat.interval must be > 0');
    assert.equal(load('listen 1935;\nheartbeat { interval 9.3; }\n').heartbeat.interval, 9.3, 'a float, as SRS reads it (full.conf has 9.3)');
    assert.equal(
      loadError('listen 1935;\nstats { network eth0; }\n'),
      't.conf:2: stats.network must be a network interface index (0, 1, ...)',
    );
    assert.equal(
      loadError('listen 1935;\nvhost a {\n dvr { dvr_plan append; }\n}\n'),
      't.conf:3: vhost a: dvr_plan must be session or segment, got "append"',
    );
    assert.equal(
      loadError('listen 1935;\nsrs_log_tank file;\nsrs_log_file "";\n'),
      't.conf:3: srs_log_file must not be empty when logging to a file',
    );
  });

  test('https requires its http service; shared ports must pair up', () => {
    assert.equal(
      loadError('listen 1935;\nhttp_api {\n  https { enabled on; }\n}\n'),
      't.conf:3: https api requires http_api enabled',
    );
    assert.equal(
      loadError('listen 1935;\nhttp_server { https { enabled on; } }\n'),
      't.conf:2: https server requires http_server enabled',
    );
    const shared = 'listen 1935;\nhttp_server { enabled on; listen 8080; }\nhttp_api {\n enabled on; listen 8080;\n}\n';
    const cfg = load(shared);
    assert.equal(cfg.httpApi.https.listen.port, 8088, 'same HTTP port shares the HTTPS server port');
    assert.equal(
      loadError(shared.replace('listen 8080;\n}', 'listen 8080; https { listen 9443; }\n}')),
      't.conf:3: http_api and http_server share port 8080 but their https ports differ (9443 vs 8088)',
    );
    assert.equal(
      loadError('listen 1935;\nhttp_server { enabled on; }\nhttp_api { enabled on; https { listen 8088; } }\n'),
      't.conf:3: http_api and http_server share https port 8088 but their http ports differ (1985 vs 8080)',
    );
  });

  test('chunk_size outside [128, 65536] only warns', () => {
    const cfg = load('listen 1935;\nchunk_size 100;\nvhost a {\n chunk_size 70000;\n}\n');
    assert.equal(cfg.chunkSize, 100);
    assert.deepEqual(cfg.warnings, [
      't.conf:2: chunk_size 100 is outside [128, 65536]',
      't.conf:4: chunk_size 70000 is outside [128, 65536]',
    ]);
  });

  test('validateConfig works on a raw tree too', () => {
    const tree = parseConfigTree('listen 1935;\nvhost a { }\n', 'raw.conf');
    assert.deepEqual(validateConfig(tree, { env: {}, envOnly: false }), []);
    const empty = parseConfigTree('', 'e.conf');
    assert.deepEqual(validateConfig(empty, { env: {}, envOnly: true }), []);
  });
});

describe('legacy conversions', () => {
  function vhostOf(root: ConfigDirective, name = 'a'): ConfigDirective {
    const v = root.children.find((c) => c.name === 'vhost' && c.args[0] === name);
    assert.ok(v);
    return v;
  }
  function argsAt(d: ConfigDirective | undefined, ...path: string[]): string[] | undefined {
    let cur = d;
    for (const p of path) cur = findChild(cur, p);
    return cur?.args;
  }

  test('vhost-level play directives move into play {}', () => {
    const cfg = load(
      'listen 1935;\nvhost a {\n gop_cache off;\n queue_length 10;\n time_jitter zero;\n mw_latency 100;\n mix_correct on;\n atc on;\n atc_auto on;\n gop_cache_max_frames 9;\n send_min_interval 1.5;\n reduce_sequence_header on;\n}\n',
    );
    const p = cfg.getVhost('a')?.play;
    assert.ok(p);
    assert.equal(p.gopCache, false);
    assert.equal(p.queueLength, 10);
    assert.equal(p.timeJitter, 'zero');
    assert.equal(p.mwLatency, 100);
    assert.equal(p.mixCorrect, true);
    assert.equal(p.atc, true);
    assert.equal(p.atcAuto, true);
    assert.equal(p.gopCacheMaxFrames, 9);
    assert.equal(p.sendMinInterval, 1.5);
    assert.equal(p.reduceSequenceHeader, true);
    assert.equal(cfg.warnings[0], 't.conf:3: legacy vhost-level "gop_cache" moved into "play {}"');
  });

  test('legacy value overwrites an existing play key; other play keys kept', () => {
    const { root } = transformLegacy(parseConfigTree('vhost a {\n play { gop_cache on; queue_length 5; }\n gop_cache off;\n}', 't'));
    assert.deepEqual(argsAt(vhostOf(root), 'play', 'gop_cache'), ['off']);
    assert.deepEqual(argsAt(vhostOf(root), 'play', 'queue_length'), ['5']);
    assert.equal(findChild(vhostOf(root), 'gop_cache'), undefined);
  });

  test('publish timeouts and mr', () => {
    const cfg = load(
      'listen 1935;\nvhost a {\n publish_1stpkt_timeout 3000;\n publish_normal_timeout 4000;\n mr { enabled on; latency 200; }\n}\n',
    );
    const p = cfg.getVhost('a')?.publish;
    assert.equal(p?.firstpktTimeout, 3000);
    assert.equal(p?.normalTimeout, 4000);
    assert.equal(p?.mr, true);
    assert.equal(p?.mrLatency, 200);
  });

  test('http_stream becomes http_server; vhost http becomes http_static', () => {
    const cfg = load('listen 1935;\nhttp_stream {\n enabled on;\n listen 8081;\n}\nvhost a { http { enabled on; mount /x; } }\n');
    assert.equal(cfg.httpServer.enabled, true);
    assert.equal(cfg.httpServer.listen.port, 8081);
    assert.equal(cfg.getVhost('a')?.httpStatic.mount, '/x');
    assert.ok(cfg.warnings.includes('t.conf:2: legacy "http_stream" renamed to "http_server"'));
  });

  test('flat refer, forward and cluster keys', () => {
    const cfg = load(
      'listen 1935;\nvhost a {\n refer a.com b.com;\n refer_play p.com;\n refer_publish q.com;\n forward 1.2.3.4:1936 5.6.7.8;\n mode remote;\n origin 9.9.9.9:1935;\n token_traverse on;\n}\n',
    );
    const v = cfg.getVhost('a');
    assert.deepEqual(v?.refer, { enabled: true, all: ['a.com', 'b.com'], play: ['p.com'], publish: ['q.com'] });
    assert.deepEqual(v?.forward, { enabled: true, destinations: ['1.2.3.4:1936', '5.6.7.8'], backend: '', rtmps: false });
    assert.equal(v?.cluster.mode, 'remote');
    assert.deepEqual(v?.cluster.origins, ['9.9.9.9:1935']);
    assert.equal(v?.cluster.tokenTraverse, true);
  });

  test('rtc legacy: nack/twcc blocks, aac and bframe', () => {
    const cfg = load(
      'listen 1935;\nvhost a {\n nack { enabled off; no_copy off; }\n twcc { enabled off; }\n rtc { enabled on; aac transcode; bframe keep; }\n}\nvhost b { rtc { aac discard; bframe discard; } }\n',
    );
    const r = cfg.getVhost('a')?.rtc;
    assert.equal(r?.nack, false);
    assert.equal(r?.nackNoCopy, false);
    assert.equal(r?.twcc, false);
    assert.equal(r?.rtmpToRtc, true);
    assert.equal(r?.keepBframe, true);
    assert.equal(cfg.getVhost('b')?.rtc.rtmpToRtc, false);
    assert.equal(cfg.getVhost('b')?.rtc.keepBframe, false);
  });

  test('server-level leftovers: tlpkdrop, rtc_server perf_stat, hstrs, stream_caster host', () => {
    const cfg = load(
      'listen 1935;\nsrt_server { tlpkdrop off; }\nrtc_server { perf_stat on; queue_length 10; }\nvhost a { http_remux { hstrs on; } hls { hls_storage disk; hls_mount x; } }\nstream_caster { caster gb28181; host 1.2.3.4; rtp_port_min 1; sip { serial 1; } }\n',
    );
    assert.equal(cfg.srtServer.tlpktDrop, false);
    assert.equal(cfg.streamCasters[0].sip.candidate, '1.2.3.4');
    assert.ok(cfg.warnings.some((w) => w.includes('"hls.hls_storage" is accepted but ignored')));
    assert.ok(cfg.warnings.some((w) => w.includes('legacy "http_remux.hstrs" dropped')));
  });

  test('transform does not mutate its input', () => {
    const tree = parseConfigTree('vhost a { gop_cache off; }', 't');
    transformLegacy(tree);
    assert.equal(tree.children[0].children[0].name, 'gop_cache');
  });
});
