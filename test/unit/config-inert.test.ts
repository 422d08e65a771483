import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/server-config.js';

const inert = (text: string, env: Record<string, string> = {}): readonly string[] => parseConfigText(text, 't.conf', env, () => null).inert;

describe('directives accepted but not acted on', () => {
  test('one line per directive path, at its first place; a reported block is not walked into', () => {
    assert.deepEqual(
      inert(`listen 1935;
vhost a { srt { enabled on; srt_to_rtmp on; } }
vhost b { srt { enabled on; } play { mix_correct on; } }
`),
      [
        't.conf:3: "vhost.play.mix_correct" is accepted but not acted on (not implemented yet)',
      ],
    );
  });

  test('ignored directives say so, with the reason from the schema', () => {
    assert.deepEqual(inert('listen 1935;\ndaemon on;\nhttp_api { enabled on; crossdomain off; }\n'), [
      't.conf:2: "daemon" is accepted but ignored: Sluice runs in the foreground',
      't.conf:3: "http_api.crossdomain" is accepted but ignored: CORS follows `http_server.crossdomain`, as in SRS',
    ]);
  });

  test('nothing asked for, nothing said: switched-off blocks, features asked off, what Sluice does anyway', () => {
    assert.deepEqual(
      inert(`listen 1935;
daemon off;
srt_server { enabled off; listen 10080; }
http_server { enabled on; listen 8080; https { enabled off; } }
rtc_server { enabled on; encrypt on; }
vhost __defaultVhost__ { dvr { dvr_plan session; } play { atc off; } hls { enabled off; hls_ts_floor on; } }
`),
      [],
    );
  });

  test('a directive that rests on another is said with it, never alone: mr_latency', () => {
    assert.deepEqual(inert('listen 1935;\nvhost v { publish { mr off; mr_latency 350; } }\n'), []);
    assert.deepEqual(inert('listen 1935;\nvhost v { publish { mr on; mr_latency 350; } }\n'), [
      't.conf:2: "vhost.publish.mr" is accepted but not acted on (not implemented yet)',
    ]);
  });

  test('srt_server.latency is said only when recvlatency or peerlatency differs from it (they decide)', () => {
    const srt = (body: string): string => `listen 1935;\nsrt_server {\n  enabled on;\n  ${body}\n}\n`;
    const line = 't.conf:4: "srt_server.latency" is accepted but ignored: recvlatency and peerlatency (with their defaults) are applied after it, so it never counts, as in SRS (no warning when both equal it)';
    assert.deepEqual(inert(srt('latency 0; recvlatency 0; peerlatency 0;')), []);
    // recvlatency's default is 120, peerlatency's 0: latency 120 alone still differs from peerlatency.
    assert.deepEqual(inert(srt('latency 120; peerlatency 120;')), []);
    assert.deepEqual(inert(srt('latency 120;')), [line]);
    assert.deepEqual(inert(srt('latency 300; recvlatency 300;')), [line]);
    assert.deepEqual(inert(srt('latency 300; recvlatency 300;'), { SRS_SRT_SERVER_PEERLATENCY: '300' }), []);
  });

  test('a block switched on by env is reported', () => {
    const text = 'listen 1935;\nvhost __defaultVhost__ {\n  hds { hds_window 60; }\n}\n';
    assert.deepEqual(inert(text), []);
    assert.deepEqual(inert(text, { SRS_VHOST_HDS_ENABLED: 'on' }), ['t.conf:3: "vhost.hds" is accepted but not acted on (not implemented yet)']);
  });

  test('a config of acted-on directives only has none', () => {
    assert.deepEqual(
      inert(`listen 1935;
max_connections 1000;
srs_log_tank console;
http_api { enabled on; listen 1985; }
http_server { enabled on; listen 8080; dir ./objs/nginx/html; }
vhost __defaultVhost__ {
  hls { enabled on; hls_fragment 2; }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  cluster { mode remote; origin 127.0.0.1:19350; }
}
`),
      [],
    );
  });

  test('a legacy warning at the same place is not repeated', () => {
    const c = parseConfigText('listen 1935;\nvhost v { hls { enabled on; hls_storage ram; } }\n', 't.conf', {}, () => null);
    assert.ok(c.warnings.some((w) => w.startsWith('t.conf:2: "hls.hls_storage"')));
    assert.deepEqual(c.inert, []);
  });
});
