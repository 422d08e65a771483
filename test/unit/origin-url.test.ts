import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOrigin, upstreamTcUrl } from '../../src/outputs/edge/origin-url.js';

test('cluster.origin entries: SRS\'s host[:port], and rtmp:// / rtmps:// (RTMP over TLS, port 443 unless named)', () => {
  assert.deepEqual(parseOrigin('10.0.0.1'), { host: '10.0.0.1', port: 1935, tls: false });
  assert.deepEqual(parseOrigin('10.0.0.1:19350'), { host: '10.0.0.1', port: 19350, tls: false });
  assert.deepEqual(parseOrigin('[::1]:1936'), { host: '::1', port: 1936, tls: false });
  assert.deepEqual(parseOrigin('rtmp://o.example:1937'), { host: 'o.example', port: 1937, tls: false });
  assert.deepEqual(parseOrigin('rtmps://o.example'), { host: 'o.example', port: 443, tls: true });
  assert.deepEqual(parseOrigin('RTMPS://o.example:1443/'), { host: 'o.example', port: 1443, tls: true });
  assert.deepEqual(parseOrigin('rtmps://[::1]:1443'), { host: '::1', port: 1443, tls: true });
  for (const bad of ['', 'rtmps://', 'a:b:c', 'rtmps://o/live']) assert.throws(() => parseOrigin(bad), /invalid origin/);
});

test('the upstream tcUrl names the scheme the edge connects with', () => {
  assert.equal(upstreamTcUrl(parseOrigin('rtmps://o.example:1443'), 'live', '__defaultVhost__'), 'rtmps://o.example:1443/live');
  assert.equal(upstreamTcUrl(parseOrigin('o.example'), 'live', 'v'), 'rtmp://o.example:1935/live?vhost=v');
  assert.equal(upstreamTcUrl(parseOrigin('[::1]:1936'), 'live', '__defaultVhost__'), 'rtmp://[::1]:1936/live');
});
