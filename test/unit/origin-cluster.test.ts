import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clustersUrl, parseClustersAnswer } from '../../src/ops/cluster/coworker-client.js';
import { redirectTarget } from '../../src/outputs/edge/edge-pull.js';
import { generateRtmpUrl } from '../../src/protocol/stream-url.js';
import { heartbeatTarget } from '../../src/ops/heartbeat/heartbeat-body.js';

test('the coworker query is SRS\'s', () => {
  assert.equal(
    clustersUrl('10.0.0.2:1985', { vhost: '__defaultVhost__', host: 'a.com', app: 'live', stream: 's' }),
    'http://10.0.0.2:1985/api/v1/clusters?vhost=__defaultVhost__&ip=a.com&app=live&stream=s&coworker=10.0.0.2%3A1985',
  );
});

test('a coworker answer: SRS shape, Sluice http_port, and what is not one', () => {
  const srs = JSON.stringify({ code: 0, data: { query: {}, origin: { ip: '10.0.0.3', port: 19350, vhost: 'v', api: '10.0.0.3:1985', routers: [] } } });
  assert.deepEqual(parseClustersAnswer(200, srs), { ip: '10.0.0.3', rtmpPort: 19350, httpPort: null, vhost: 'v' });
  const sluice = JSON.stringify({ code: 0, data: { origin: { ip: '10.0.0.3', port: 1935, http_port: 8080 } } });
  assert.equal(parseClustersAnswer(200, sluice)?.httpPort, 8080);
  assert.equal(parseClustersAnswer(200, JSON.stringify({ code: 0, data: { origin: null } })), null);
  assert.equal(parseClustersAnswer(500, srs), null);
  assert.equal(parseClustersAnswer(200, JSON.stringify({ code: 1, data: { origin: { ip: 'x', port: 1 } } })), null);
  assert.equal(parseClustersAnswer(200, JSON.stringify({ code: 0, data: { origin: { ip: 'x', port: 1.5 } } })), null);
  assert.equal(parseClustersAnswer(200, '{garbage'), null);
  for (let i = 0; i < 200; i++) parseClustersAnswer(200, srs.slice(0, i));
});

test('the RTMP 302 target: redirect2, else redirect', () => {
  assert.deepEqual(redirectTarget({ ex: { code: 302, redirect: 'rtmp://a:1936/live', redirect2: 'rtmp://b:1937/live/s?x=1' } }), { host: 'b', port: 1937, tls: false });
  assert.deepEqual(redirectTarget({ ex: { code: 302, redirect: 'rtmp://a/live' } }), { host: 'a', port: 1935, tls: false });
  assert.deepEqual(redirectTarget({ ex: { redirect2: 'rtmp://[::1]:1940/live/s' } }), { host: '::1', port: 1940, tls: false });
  assert.deepEqual(redirectTarget({ ex: { redirect2: 'rtmps://o.example/live/s' } }), { host: 'o.example', port: 443, tls: true });
  assert.equal(redirectTarget({ code: 'NetStream.Play.Failed' }), null);
  assert.equal(redirectTarget({ ex: { redirect: 'http://x/y' } }), null);
});

test('SRS\'s generated RTMP URL: vhost appended for a named vhost or a host name', () => {
  assert.equal(generateRtmpUrl('10.0.0.3', 1935, '127.0.0.1', '__defaultVhost__', 'live', 's', ''), 'rtmp://10.0.0.3:1935/live/s');
  assert.equal(generateRtmpUrl('10.0.0.3', 1935, 'a.com', '__defaultVhost__', 'live', 's', '?t=1'), 'rtmp://10.0.0.3:1935/live/s?t=1&vhost=a.com');
  assert.equal(generateRtmpUrl('10.0.0.3', 1935, '127.0.0.1', 'v', 'live', 's', ''), 'rtmp://10.0.0.3:1935/live/s?vhost=v');
  assert.equal(generateRtmpUrl('10.0.0.3', 1935, 'a.com', 'v', 'live', 's', '?vhost=w'), 'rtmp://10.0.0.3:1935/live/s?vhost=w');
});

test('the heartbeat posts to the URL path only', () => {
  assert.equal(heartbeatTarget('http://127.0.0.1:8085/api/v1/srs/register?x=1#f')?.href, 'http://127.0.0.1:8085/api/v1/srs/register');
  assert.equal(heartbeatTarget('ftp://x/'), null);
  assert.equal(heartbeatTarget('not a url'), null);
});
