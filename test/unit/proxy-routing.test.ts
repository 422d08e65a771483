import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryOriginStore } from '../../src/proxy/memory-origin-store.js';
import { NoLiveOrigin, OriginRouter } from '../../src/proxy/origin-router.js';
import { httpStreamKeys, streamKeyOf } from '../../src/proxy/stream-key.js';
import { originEndpoint, parseEndpoint } from '../../src/proxy/origin-endpoint.js';
import { parseProxyConfig } from '../../src/proxy/proxy-config.js';
import { answerThroughProxy } from '../../src/proxy/rtc-signal-relay.js';
import type { OriginRecord } from '../../src/proxy/origin-store.js';

function origin(id: string): OriginRecord {
  return { id, ip: '10.0.0.9', rtmp: ['19350'], http: ['0.0.0.0:8080'], api: [], srt: [], rtc: [], updatedAt: 0 };
}

test('HTTP paths map to stream keys; segments fall back to their stream', () => {
  assert.deepEqual(httpStreamKeys('/live/s.flv', ''), ['__defaultVhost__/live/s']);
  assert.deepEqual(httpStreamKeys('/live/s-12.ts', '?hls_ctx=x'), ['__defaultVhost__/live/s-12', '__defaultVhost__/live/s']);
  assert.deepEqual(httpStreamKeys('/a/b/cam.m3u8', '?vhost=v.com'), ['v.com/a/b/cam']);
  assert.equal(httpStreamKeys('/live/cam/video-12.m4s', '')?.at(-1), '__defaultVhost__/live/cam');
  assert.equal(httpStreamKeys('/favicon.ico', ''), null);
  assert.equal(httpStreamKeys('/s.flv', ''), null);
  assert.equal(streamKeyOf({ app: 'live', stream: 's', param: '?domain=d.com&x=1' }), 'd.com/live/s');
  assert.equal(streamKeyOf({ app: 'live', stream: 's', param: '?vhost=__defaultVhost__' }), '__defaultVhost__/live/s');
});

test('endpoints: port alone or a wildcard host means the origin\'s ip', () => {
  assert.deepEqual(parseEndpoint('1935', '1.2.3.4'), { host: '1.2.3.4', port: 1935 });
  assert.deepEqual(parseEndpoint('5.6.7.8:80', '1.2.3.4'), { host: '5.6.7.8', port: 80 });
  assert.deepEqual(parseEndpoint('udp://0.0.0.0:8000', '1.2.3.4'), { host: '1.2.3.4', port: 8000 });
  assert.deepEqual(parseEndpoint('[::1]:1935', 'x'), { host: '::1', port: 1935 });
  assert.equal(parseEndpoint('nope', 'x'), null);
  assert.equal(parseEndpoint('70000', 'x'), null);
  assert.deepEqual(originEndpoint(origin('a'), 'http'), { host: '10.0.0.9', port: 8080 });
  assert.equal(originEndpoint(origin('a'), 'api'), null);
});

test('HTTP routing follows the first pinned key; publishers keep their pin', async () => {
  let now = 0;
  const store = new MemoryOriginStore(() => now);
  const router = new OriginRouter(store);
  await assert.rejects(router.routeFirstPinned(['v/live/s']), NoLiveOrigin);
  for (const id of ['a', 'b', 'c']) await store.putOrigin(origin(id), 10_000);
  await router.keep('v/live/s', 'c');
  assert.equal((await router.routeFirstPinned(['v/live/s-3', 'v/live/s'])).id, 'c');
  assert.equal((await router.route('v/live/s')).id, 'c');
  // c stops beating: the stream moves, and segments follow the new pin.
  now = 5000;
  await store.putOrigin(origin('a'), 10_000);
  await store.putOrigin(origin('b'), 10_000);
  now = 11_000;
  const moved = await router.route('v/live/s');
  assert.notEqual(moved.id, 'c');
  assert.equal((await router.routeFirstPinned(['v/live/s-9', 'v/live/s'])).id, moved.id);
});

test('proxy config: file, PROXY_* env over it, and refusals', () => {
  const file = 'rtmp_server 1936; http_server off; system_api 127.0.0.1:12026; load_balancer redis; redis { host r.local; port 6380; db 2; } origin_ttl 3;';
  const c = parseProxyConfig(file, 'p.conf', { PROXY_REDIS_PASSWORD: 'pw', PROXY_RTMP_SERVER: '19350' });
  assert.deepEqual(c.rtmpServer, { host: '0.0.0.0', port: 19350 });
  assert.equal(c.httpServer, null);
  assert.deepEqual(c.systemApi, { host: '127.0.0.1', port: 12026 });
  assert.equal(c.loadBalancer, 'redis');
  assert.deepEqual(c.redis, { host: 'r.local', port: 6380, password: 'pw', db: 2 });
  assert.equal(c.originTtlMs, 3000);
  const d = parseProxyConfig(null, '(env)', { PROXY_HTTP_API: '1985' });
  assert.equal(d.loadBalancer, 'memory');
  assert.deepEqual(d.rtmpServer, { host: '0.0.0.0', port: 1935 });
  assert.equal(d.inert.length, 1);
  assert.deepEqual(d.srtServer, { host: '0.0.0.0', port: 20080 }, "SRS proxy's SRT port by default");
  assert.equal(parseProxyConfig('srt_server off;', 'p.conf', {}).srtServer, null);
  assert.deepEqual(parseProxyConfig('srt_server off;', 'p.conf', { PROXY_SRT_SERVER: '127.0.0.1:10080' }).srtServer, { host: '127.0.0.1', port: 10080 });
  assert.throws(() => parseProxyConfig(null, '(env)', { PROXY_LOAD_BALANCER_TYPE: 'etcd' }), /memory or redis/);
  assert.throws(() => parseProxyConfig('rtmps_server 1443;', 'p.conf', {}), /needs rtmps_key and rtmps_cert/);
  const t = parseProxyConfig('rtmps_server 1443; rtmps_key k.pem;', 'p.conf', { PROXY_RTMPS_CERT: 'c.pem' });
  assert.deepEqual([t.rtmpsServer, t.rtmpsFiles], [{ host: '0.0.0.0', port: 1443 }, { key: 'k.pem', cert: 'c.pem' }]);
  assert.equal(d.rtmpsServer, null, 'RTMPS off by default');
  assert.throws(() => parseProxyConfig(null, '(env)', { PROXY_ORIGIN_TTL: '-1' }), /seconds/);
});

test('a WebRTC answer through the proxy names only the proxy\'s UDP port', () => {
  const answer = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=ice-ufrag:abcd', 'a=ice-pwd:x', 'a=candidate:1 1 udp 2130706431 10.0.0.9 8000 typ host generation 0', 'a=candidate:2 1 tcp 1694498815 10.0.0.9 8000 typ host tcptype passive', 'a=end-of-candidates', ''].join('\r\n');
  const out = answerThroughProxy(answer, '203.0.113.7', 8443).split('\r\n');
  assert.deepEqual(out.filter((l) => l.startsWith('a=candidate:')), ['a=candidate:1 1 udp 2130706431 203.0.113.7 8443 typ host generation 0']);
  assert.equal(out[out.indexOf('a=ice-ufrag:abcd') + 1], 'a=candidate:1 1 udp 2130706431 203.0.113.7 8443 typ host generation 0');
  assert.ok(!out.includes('a=end-of-candidates'));
  const c = parseProxyConfig('webrtc_server 8000; webrtc_candidate 203.0.113.7;', 'p.conf', {});
  assert.deepEqual(c.webrtcServer, { host: '0.0.0.0', port: 8000 });
  assert.equal(c.webrtcCandidate, '203.0.113.7');
  assert.equal(parseProxyConfig(null, '(env)', {}).webrtcServer, null);
});

test('a new stream goes to the least-loaded origin when every heartbeat says its load, else by hash', async () => {
  const { originFromHeartbeat } = await import('../../src/proxy/heartbeat-record.js');
  const busy = originFromHeartbeat({ ip: '10.0.0.1', device_id: 'busy', summaries: { system: { conn_srs: 90 }, sluice: { clients: 40 } } }, 0)!;
  const idle = originFromHeartbeat({ ip: '10.0.0.2', device_id: 'idle', summaries: { ok: true, system: { conn_srs: 3 } } }, 0)!;
  assert.equal(busy.load, 40, "Sluice's client count first");
  assert.equal(idle.load, 3, "else SRS's conn_srs");
  assert.equal(originFromHeartbeat({ ip: '10.0.0.3', device_id: 'x', summaries: { system: { conn_srs: 'lots' } } }, 0)!.load, undefined);
  const store = new MemoryOriginStore(() => 0);
  await store.putOrigin(busy, 1000);
  await store.putOrigin(idle, 1000);
  const router = new OriginRouter(store);
  for (let i = 0; i < 20; i++) assert.equal((await router.route(`v/live/s${i}`)).id, 'idle');
  // One origin that does not say its load: back to the hash, which spreads streams over both.
  await store.putOrigin({ ...origin('quiet') }, 1000);
  const picks = new Set<string>();
  for (let i = 0; i < 40; i++) picks.add((await router.route(`v/live/t${i}`)).id);
  assert.ok(picks.has('busy') && picks.has('quiet'), [...picks].join());
});
