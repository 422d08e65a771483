// Shapes found in SRS's own sample configs (trunk/conf) that Sluice refused or
// passed off silently before the session-9 audit (docs/DECISIONS.md). Each
// snippet is written here to show the shape, not copied from SRS.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/parser.js';
import { parseConfigText, type Env, type ServerConfig } from '../../src/config/server-config.js';

function load(text: string, env: Env = {}): ServerConfig {
  return parseConfigText(text, 't.conf', env, () => null, { cwd: '/cwd' });
}

function loadError(text: string): string {
  try {
    load(text);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

describe('SRS 7 layout: rtmp { listen }', () => {
  test('the block alone gives the RTMP ports (no root listen needed)', () => {
    const c = load('rtmp {\n  listen 19360 [::1]:19361;\n}\nvhost __defaultVhost__ {}\n');
    assert.deepEqual(c.listen, [
      { host: null, port: 19360 },
      { host: '::1', port: 19361 },
    ]);
    assert.deepEqual(c.warnings, []);
    assert.deepEqual(c.inert, []);
  });

  test('with a root listen too, the block wins and the root one is warned about', () => {
    const c = load('listen 1936;\nrtmp { listen 1937; }\nvhost v {}\n');
    assert.deepEqual(c.listen, [{ host: null, port: 1937 }]);
    assert.deepEqual(c.warnings, ['t.conf:1: "listen" ignored: "rtmp.listen" (t.conf:2) is used']);
  });

  test('an empty rtmp block leaves the root listen required', () => {
    assert.equal(loadError('rtmp {}\nvhost v {}\n'), 't.conf:0: listen requires params');
    assert.deepEqual(load('listen 1935;\nrtmp {}\n').listen, [{ host: null, port: 1935 }]);
  });

  test('rtmp chunk_size is the global chunk_size; other directives in the block are refused, as in SRS 7', () => {
    assert.equal(load('rtmp { listen 1935; chunk_size 4096; }\nvhost v {}\n').chunkSize, 4096);
    assert.equal(loadError('rtmp { listen 1935; max_connections 9; }\n'), 't.conf:1: illegal directive "rtmp.max_connections"');
  });

  test('vhost bandcheck (removed from SRS, still accepted by SRS 7) loads, reported as ignored', () => {
    const c = load('listen 1935;\nvhost v { bandcheck { enabled on; key k; interval 30; limit_kbps 4000; } }\n');
    assert.deepEqual(c.inert, ['t.conf:2: "vhost.bandcheck" is accepted but ignored: the bandwidth test was removed from SRS; SRS 7 still accepts the block']);
  });
});

describe('SRS 7 directives Sluice lacks load, reported as not acted on', () => {
  test('rtsp_server and vhost rtsp (console.conf of SRS 7)', () => {
    const c = load('listen 1935;\nrtsp_server { enabled on; listen 8554; }\nvhost __defaultVhost__ { rtsp { enabled on; rtmp_to_rtsp on; } }\n');
    assert.deepEqual(
      c.inert.map((w) => w.slice(0, w.indexOf(' is accepted'))),
      ['t.conf:2: "rtsp_server"', 't.conf:3: "vhost.rtsp"'],
    );
    assert.equal(c.getVhost('x')?.rtsp.rtmpToRtsp, true);
    // Switched off, nothing is said.
    assert.deepEqual(load('listen 1935;\nrtsp_server { enabled off; }\nvhost v { rtsp { enabled off; } }\n').inert, []);
  });

  test('forward api on is reported; forward rtmps is read', () => {
    const c = load('listen 1935;\nvhost v { forward { enabled on; api on; rtmps on; destination 127.0.0.1:19430; } }\n');
    assert.deepEqual(c.inert, ['t.conf:2: "vhost.forward.api" is accepted but not acted on (not implemented yet): SRS 7: destinations added and removed over the HTTP API']);
    assert.equal(c.getVhost('v')?.forward.rtmps, true);
    assert.equal(load('listen 1935;\nvhost v { forward { enabled on; } }\n').getVhost('v')?.forward.rtmps, false);
  });
});

describe('SRS 7 srt_server default_mode and default_streamid', () => {
  test('read into the typed view, SRS defaults otherwise', () => {
    const c = load('listen 1935;\nsrt_server { enabled on; default_mode publish; default_streamid "#!::r=a/b,m=request"; }\n');
    assert.equal(c.srtServer.defaultMode, 'publish');
    assert.equal(c.srtServer.defaultStreamId, '#!::r=a/b,m=request');
    const d = load('listen 1935;\nsrt_server { enabled on; default_mode request; }\n').srtServer;
    assert.equal(d.defaultMode, 'play');
    assert.equal(d.defaultStreamId, '#!::r=live/livestream,m=publish');
  });

  test('a mode other than request or publish is refused', () => {
    assert.equal(
      loadError('listen 1935;\nsrt_server {\n default_mode pull;\n}\n'),
      't.conf:3: srt_server.default_mode must be request or publish, got "pull"',
    );
  });
});

describe('SRS 7 http_api.auth type and rtc_bearer_enabled', () => {
  test('read into the typed view; unset type accepts both schemes', () => {
    const c = load('listen 1935;\nhttp_api { enabled on; auth { enabled on; type bearer; token t; rtc_bearer_enabled on; } }\n');
    assert.equal(c.httpApi.auth.type, 'bearer');
    assert.equal(c.httpApi.auth.rtcBearer, true);
    assert.deepEqual(c.inert, []);
    assert.equal(load('listen 1935;\nhttp_api { auth { enabled on; } }\n').httpApi.auth.type, '');
  });

  test('another type is refused', () => {
    assert.equal(loadError('listen 1935;\nhttp_api { auth { type digest; } }\n'), 't.conf:2: http_api.auth.type must be basic or bearer, got "digest"');
  });
});

describe('not acted on, and now said so', () => {
  test('a legacy move does not hide that the moved directive is not acted on', () => {
    const c = load('listen 1935;\nvhost v {\n  atc on;\n  gop_cache off;\n}\n');
    assert.ok(c.warnings.includes('t.conf:3: legacy vhost-level "atc" moved into "play {}"'));
    assert.deepEqual(c.inert, ['t.conf:3: "vhost.play.atc" is accepted but not acted on (not implemented yet)']);
  });

  test('a gb28181 caster is reported (a switched-off one is not)', () => {
    assert.deepEqual(load('listen 1935;\nstream_caster { enabled on; caster gb28181; listen 9000; }\n').inert, [
      't.conf:2: "stream_caster.caster gb28181" is accepted but not acted on (not implemented yet)',
    ]);
    assert.deepEqual(load('listen 1935;\nstream_caster { enabled off; caster gb28181; }\n').inert, []);
    assert.deepEqual(load('listen 1935;\nstream_caster { enabled on; caster flv; listen 8936; }\n').inert, []);
  });

  test('an http_remux mount whose extension Sluice does not serve is warned about', () => {
    const c = load('listen 1935;\nvhost v { http_remux {\n enabled on;\n mount [vhost]/[app]/[stream].mp4;\n} }\n');
    assert.deepEqual(c.warnings, [
      't.conf:4: "vhost.http_remux.mount" [vhost]/[app]/[stream].mp4: .mp4 is not served (not implemented); the mount\'s base serves .flv, .ts, .aac and .mp3',
    ]);
    for (const ext of ['flv', 'ts', 'aac', 'mp3']) {
      assert.deepEqual(load(`listen 1935;\nvhost v { http_remux { enabled on; mount [vhost]/[app]/[stream].${ext}; } }\n`).warnings, [], ext);
    }
    assert.deepEqual(load('listen 1935;\nvhost v { http_remux { enabled off; mount [app]/[stream].mp4; } }\n').warnings, []);
  });

  test('SRS 7 fMP4 HLS and the hikvision block load, reported', () => {
    const c = load('listen 1935;\nhikvision { enabled on; device { host 10.0.0.2; } }\nvhost v { hls { enabled on; hls_use_fmp4 on; } }\n');
    assert.deepEqual(
      c.inert.map((w) => w.slice(0, w.indexOf(' is accepted'))),
      ['t.conf:2: "hikvision"', 't.conf:3: "vhost.hls.hls_use_fmp4"'],
    );
    assert.deepEqual(load('listen 1935;\nvhost v { hls { enabled on; hls_use_fmp4 off; } }\n').inert, []);
  });

  test('debug_srs_upnode off is what Sluice does: nothing said', () => {
    assert.deepEqual(load('listen 1935;\nvhost v { cluster { mode remote; origin 1.2.3.4; debug_srs_upnode off; } }\n').inert, []);
  });
});
