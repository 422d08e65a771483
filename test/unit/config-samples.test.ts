import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DEFAULT_CONFIG_TEXT } from '../../src/config/default-config-text.js';
import { loadConfig, parseConfigText, type ServerConfig } from '../../src/config/server-config.js';

// dist/test/unit/ → repository root
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONF = join(ROOT, 'conf');

function load(text: string, name: string): ServerConfig {
  return parseConfigText(text, name, {}, () => null);
}

describe('shipped sample configs', () => {
  test('conf/default.conf is byte-identical to the embedded default', () => {
    assert.equal(readFileSync(join(CONF, 'default.conf'), 'utf8'), DEFAULT_CONFIG_TEXT);
  });

  test('every conf/*.conf loads without errors or warnings', () => {
    const files = readdirSync(CONF).filter((f) => f.endsWith('.conf'));
    for (const f of ['default.conf', 'rtmp.conf', 'http.flv.live.conf', 'realtime.conf']) assert.ok(files.includes(f), f);
    for (const f of files) {
      const c = loadConfig(join(CONF, f), {});
      assert.deepEqual(c.warnings, [], f);
      // The shipped samples set only what Sluice acts on: `-t` prints no warning for them.
      assert.deepEqual(c.inert, [], f);
      // The origin of the origin/edge sample sits behind its edges on another port.
      assert.deepEqual(c.listen, [{ host: null, port: f === 'origin.conf' ? 19351 : 1935 }], f);
    }
  });

  test('rtmp.conf: RTMP only', () => {
    const c = loadConfig(join(CONF, 'rtmp.conf'), {});
    assert.equal(c.httpServer.enabled, false);
    assert.equal(c.httpApi.enabled, false);
    assert.equal(c.getVhost('x')?.httpRemux.enabled, false);
  });

  test('http.flv.live.conf: HTTP-FLV on 8080', () => {
    const c = loadConfig(join(CONF, 'http.flv.live.conf'), {});
    assert.equal(c.httpServer.enabled, true);
    assert.equal(c.httpServer.listen.port, 8080);
    assert.equal(c.getVhost('x')?.httpRemux.enabled, true);
    assert.equal(c.getVhost('x')?.httpRemux.mount, '[vhost]/[app]/[stream].flv');
  });

  test('realtime.conf: min_latency, mw_latency 0, tcp_nodelay', () => {
    const v = loadConfig(join(CONF, 'realtime.conf'), {}).getVhost('x');
    assert.equal(v?.minLatency, true);
    assert.equal(v?.tcpNodelay, true);
    assert.equal(v?.play.mwLatency, 0);
    assert.equal(v?.play.mwMsgs, 0);
    assert.equal(v?.play.gopCache, false);
  });
});

describe('SRS stock config shapes', () => {
  test('srs.conf (stock): API, HTTP, RTC with $CANDIDATE, HLS and bridges', () => {
    const text = `# main config for srs.
# @see full.conf for detail config.

listen              1935;
max_connections     1000;
#srs_log_tank        file;
#srs_log_file        ./objs/srs.log;
daemon              on;
http_api {
    enabled         on;
    listen          1985;
}
http_server {
    enabled         on;
    listen          8080;
    dir             ./objs/nginx/html;
}
rtc_server {
    enabled on;
    listen 8000; # UDP port
    # @see https://ossrs.net/lts/zh-cn/docs/v4/doc/webrtc#config-candidate
    candidate $CANDIDATE;
}
vhost __defaultVhost__ {
    hls {
        enabled         on;
    }
    http_remux {
        enabled     on;
        mount       [vhost]/[app]/[stream].flv;
    }
    rtc {
        enabled     on;
        # @see https://ossrs.net/lts/zh-cn/docs/v4/doc/webrtc#rtmp-to-rtc
        rtmp_to_rtc off;
        # @see https://ossrs.net/lts/zh-cn/docs/v4/doc/webrtc#rtc-to-rtmp
        rtc_to_rtmp off;
    }

    play{
        gop_cache_max_frames 2500;
    }
}
`;
    const c = parseConfigText(text, 'srs.conf', { CANDIDATE: '192.168.0.2' }, () => null);
    assert.equal(c.httpApi.enabled, true);
    assert.equal(c.rtcServer.enabled, true);
    assert.equal(c.rtcServer.listen, 8000);
    assert.equal(c.rtcServer.candidate, '192.168.0.2');
    const v = c.getVhost('__defaultVhost__');
    assert.equal(v?.hls.enabled, true);
    assert.equal(v?.rtc.enabled, true);
    assert.equal(v?.rtc.rtmpToRtc, false);
    assert.equal(v?.play.gopCacheMaxFrames, 2500);
    assert.deepEqual(c.inert, ['srs.conf:8: "daemon" is accepted but ignored: Sluice runs in the foreground']);
  });

  test('docker.conf-like: console log, rtmp2rtc bridges on', () => {
    const c = load(
      `listen              1935;
max_connections     1000;
srs_log_tank        console;
daemon              off;
disable_daemon_for_docker off;
http_api {
    enabled         on;
    listen          1985;
}
http_server {
    enabled         on;
    listen          8080;
    dir             ./objs/nginx/html;
}
rtc_server {
    enabled on;
    listen 8000;
    candidate $CANDIDATE;
}
vhost __defaultVhost__ {
    hls {
        enabled         on;
        hls_fragment    10;
        hls_window      60;
        hls_path        ./objs/nginx/html;
        hls_m3u8_file   [app]/[stream].m3u8;
        hls_ts_file     [app]/[stream]-[seq].ts;
    }
    rtc {
        enabled     on;
        rtmp_to_rtc on;
        rtc_to_rtmp on;
    }
    dvr {
        enabled      off;
        dvr_path     ./objs/nginx/html/[app]/[stream].[timestamp].mp4;
        dvr_plan     session;
    }
}
`,
      'docker.conf',
    );
    assert.equal(c.logTank, 'console');
    assert.equal(c.rtcServer.candidate, '*');
    assert.equal(c.getVhost('x')?.rtc.rtcToRtmp, true);
    assert.equal(c.getVhost('x')?.dvr.path, './objs/nginx/html/[app]/[stream].[timestamp].mp4');
  });

  test('edge.conf / origin cluster shapes', () => {
    const edge = load(
      `listen              1935;
max_connections     1000;
pid                 objs/edge.pid;
daemon              off;
srs_log_tank        console;
vhost __defaultVhost__ {
    cluster {
        mode            remote;
        origin          127.0.0.1:19350 127.0.0.1:19351;
    }
}
`,
      'edge.conf',
    );
    assert.equal(edge.pid, 'objs/edge.pid');
    assert.deepEqual(edge.getVhost('x')?.cluster.origins, ['127.0.0.1:19350', '127.0.0.1:19351']);
    assert.equal(edge.getVhost('x')?.cluster.mode, 'remote');
    assert.deepEqual(edge.inert, [], 'edge mode is acted on; daemon off is what Sluice does');

    const origin = load(
      `listen              19350;
max_connections     1000;
daemon              off;
srs_log_tank        console;
pid                 ./objs/origin.cluster.serverA.pid;
http_api {
    enabled         on;
    listen          9090;
}
vhost __defaultVhost__ {
    cluster {
        mode            local;
        origin_cluster  on;
        coworkers       127.0.0.1:9091 127.0.0.1:9092;
    }
}
`,
      'origin.cluster.serverA.conf',
    );
    assert.equal(origin.getVhost('x')?.cluster.originCluster, true);
    assert.deepEqual(origin.getVhost('x')?.cluster.coworkers, ['127.0.0.1:9091', '127.0.0.1:9092']);
    // The origin cluster is acted on: nothing to warn about.
    assert.deepEqual(origin.inert, []);
  });

  test('http.hooks.callback.conf, forward.master.conf, security.deny.publish.conf, dvr.segment.conf', () => {
    const c = load(
      `listen              1935;
max_connections     1000;
daemon              off;
srs_log_tank        console;
vhost __defaultVhost__ {
    http_hooks {
        enabled         on;
        on_publish      http://127.0.0.1:8085/api/v1/streams;
        on_unpublish    http://127.0.0.1:8085/api/v1/streams;
        on_play         http://127.0.0.1:8085/api/v1/sessions;
        on_stop         http://127.0.0.1:8085/api/v1/sessions;
        on_dvr          http://127.0.0.1:8085/api/v1/dvrs;
        on_hls          http://127.0.0.1:8085/api/v1/hls;
        on_hls_notify   http://127.0.0.1:8085/api/v1/hls/[app]/[stream]/[ts_url][param];
    }
    forward {
        enabled on;
        destination 127.0.0.1:19350;
    }
    security {
        enabled         on;
        deny            publish     all;
        allow           play        all;
    }
    dvr {
        enabled             on;
        dvr_path            ./objs/nginx/html/[app]/[stream].[timestamp].flv;
        dvr_plan            segment;
        dvr_duration        30;
        dvr_wait_keyframe   on;
    }
}
`,
      'hooks.conf',
    );
    const v = c.getVhost('x');
    assert.deepEqual(v?.httpHooks.onHlsNotify, ['http://127.0.0.1:8085/api/v1/hls/[app]/[stream]/[ts_url][param]']);
    assert.deepEqual(v?.forward.destinations, ['127.0.0.1:19350']);
    assert.deepEqual(v?.security.rules, [
      { action: 'deny', scope: 'publish', target: 'all' },
      { action: 'allow', scope: 'play', target: 'all' },
    ]);
    assert.equal(v?.dvr.plan, 'segment');
    assert.deepEqual(c.inert, [
    ]);
  });

  test('transcode / ingest / srt shapes', () => {
    const c = load(
      `listen              1935;
max_connections     1000;
daemon              off;
srs_log_tank        console;
srt_server {
    enabled on;
    listen 10080;
    maxbw 1000000000;
    connect_timeout 4000;
    peerlatency 0;
    recvlatency 0;
    latency 0;
    tsbpdmode off;
    tlpktdrop off;
    sendbuf 2000000;
    recvbuf 2000000;
}
vhost __defaultVhost__ {
    srt {
        enabled     on;
        srt_to_rtmp on;
    }
    transcode live/livestream {
        enabled     on;
        ffmpeg      ./objs/ffmpeg/bin/ffmpeg;
        engine ff {
            enabled         on;
            vfilter {
                vf 'drawtext=text=SimpleRealtimeServer:fontsize=20';
            }
            vcodec          libx264;
            vbitrate        300;
            vfps            20;
            vwidth          768;
            vheight         320;
            vthreads        2;
            vprofile        baseline;
            vpreset         superfast;
            vparams {
            }
            acodec          libfdk_aac;
            abitrate        45;
            asample_rate    44100;
            achannels       2;
            aparams {
            }
            output          rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine];
        }
    }
    ingest livestream {
        enabled      on;
        input {
            type    file;
            url     ./doc/source.flv;
        }
        ffmpeg      ./objs/ffmpeg/bin/ffmpeg;
        engine {
            enabled          off;
            output          rtmp://127.0.0.1:[port]/live?vhost=[vhost]/livestream;
        }
    }
}
`,
      'srt.conf',
    );
    assert.equal(c.srtServer.enabled, true);
    assert.equal(c.srtServer.tsbpdMode, false);
    assert.equal(c.srtServer.connectTimeout, 4000);
    const v = c.getVhost('x');
    assert.deepEqual(v?.transcodes[0].engines[0].vfilter, [{ name: 'vf', args: ['drawtext=text=SimpleRealtimeServer:fontsize=20'] }]);
    assert.equal(v?.ingests[0].input.url, './doc/source.flv');
    // SRS's srt.conf sets latency, recvlatency and peerlatency all to 0: latency decides nothing
    // different, so it is not reported (config-inert.test.ts covers the cases where it differs).
    assert.deepEqual(c.inert, []);
  });

  test('an old SRS 2/3 config with legacy directives still loads', () => {
    const c = load(
      `listen              1935;
max_connections     1000;
http_stream {
    enabled         on;
    listen          8080;
    dir             ./objs/nginx/html;
}
vhost __defaultVhost__ {
    gop_cache       off;
    queue_length    10;
    min_latency     on;
    mr {
        enabled     off;
    }
    mw_latency      100;
    publish_1stpkt_timeout 20000;
    publish_normal_timeout 7000;
    time_jitter     full;
    forward         127.0.0.1:19350;
    refer           github.com github.io;
    http_remux {
        enabled     on;
        mount       [vhost]/[app]/[stream].flv;
        hstrs       on;
    }
}
`,
      'old.conf',
    );
    const v = c.getVhost('x');
    assert.equal(c.httpServer.enabled, true);
    assert.equal(v?.play.gopCache, false);
    assert.equal(v?.play.queueLength, 10);
    assert.equal(v?.play.mwLatency, 100);
    assert.equal(v?.publish.normalTimeout, 7000);
    assert.equal(v?.forward.enabled, true);
    assert.deepEqual(v?.refer.all, ['github.com', 'github.io']);
    assert.ok(c.warnings.length >= 9);
  });
});
