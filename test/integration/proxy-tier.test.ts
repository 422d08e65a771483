/**
 * The proxy tier (issue 16 items 3-4) with real processes: Debian's
 * redis-server, two `sluice proxy` on the Redis store, three Sluice origins
 * posting heartbeats to proxy 1. ffmpeg publishes through proxy 1 and
 * ffprobe plays through proxy 2 (RTMP, HTTP-FLV, HLS). Redis crashes and
 * comes back while a player plays through proxy 2; the origin holding the
 * stream is killed with SIGKILL and the republish lands on a live origin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { RunningServer } from '../helpers/server-process.js';
import { startProxy, startRedis, type RunningProxy, type RunningRedis } from '../helpers/proxy-process.js';
import { decodeFrames, probe, publish, type Proc } from '../helpers/ffmpeg.js';
import { assertVideo, startProxyOrigin } from '../helpers/proxy-origin.js';
import { waitFor } from '../helpers/wait.js';
import { MAX_REGISTER_BODY } from '../../src/proxy/system-api-server.js';

const KEY = '__defaultVhost__/live/cam';
const TTL_S = 3;

async function liveOrigins(p: RunningProxy): Promise<string[] | null> {
  try {
    const r = await p.api('/api/v1/proxy/origins');
    if (r.status !== 200) return null;
    return (r.body.origins as { id: string }[]).map((o) => o.id);
  } catch {
    return null;
  }
}

async function pinOf(p: RunningProxy, key: string): Promise<string | null> {
  const r = await p.api(`/api/v1/proxy/streams?key=${encodeURIComponent(key)}`);
  return r.status === 200 ? (r.body.origin as string | null) : null;
}

/** Resolves when the connection is closed by the peer (true) or stays open `ms` (false). */
function closedWithin(sock: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    sock.on('error', () => undefined);
    sock.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

test('two proxies on Redis route publish and play to one origin; Redis restart and origin kill are survived', { timeout: 300_000 }, async () => {
  const redis: RunningRedis = await startRedis();
  const env = {
    PROXY_LOAD_BALANCER_TYPE: 'redis',
    PROXY_REDIS_HOST: '127.0.0.1',
    PROXY_REDIS_PORT: String(redis.port),
    PROXY_ORIGIN_TTL: String(TTL_S),
    PROXY_PIN_REFRESH: '1',
    PROXY_CONNECT_TIMEOUT: '2',
  };
  const proxies: RunningProxy[] = [];
  const origins = new Map<string, RunningServer>();
  const procs: Proc[] = [];
  try {
    proxies.push(await startProxy(env), await startProxy(env));
    const [p1, p2] = proxies as [RunningProxy, RunningProxy];
    for (const id of ['o1', 'o2', 'o3']) {
      origins.set(id, await startProxyOrigin(id, p1, { hls: true, summaries: false, gopCache: true }));
    }
    // Heartbeats reach Redis through proxy 1; proxy 2 sees the same origins.
    assert.ok(await waitFor(async () => (await liveOrigins(p2))?.length === 3, 20_000), 'proxy 2 sees three origins');

    // --- bad input: garbage and silence on RTMP, oversize and malformed heartbeats
    const garbage = net.connect(p1.rtmpPort, '127.0.0.1');
    garbage.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await closedWithin(garbage, 5000), 'garbage is cut');
    const silent = net.connect(p1.rtmpPort, '127.0.0.1');
    silent.write(Buffer.from([3]));
    const t0 = Date.now();
    assert.ok(await closedWithin(silent, 10_000), 'a silent client is cut');
    assert.ok(Date.now() - t0 >= 1500, 'not before the connect timeout');
    // The proxy's log line comes over its stdout pipe, which may arrive after the TCP close the test saw.
    assert.ok(await waitFor(() => p1.logs.some((l) => l.msg.includes('bad client preamble')), 5000), 'the garbage is logged');
    assert.ok(await waitFor(() => p1.logs.some((l) => l.msg.includes('no play or publish in time')), 5000), 'the silent client is logged');
    const big = await fetch(`http://127.0.0.1:${p1.systemPort}/api/v1/srs/register`, { method: 'POST', body: JSON.stringify({ ip: '1.2.3.4', device_id: 'x', pad: 'x'.repeat(MAX_REGISTER_BODY) }) });
    assert.equal(big.status, 413);
    const bad = await fetch(`http://127.0.0.1:${p1.systemPort}/api/v1/srs/register`, { method: 'POST', body: '{"ip":' });
    assert.equal(bad.status, 400);
    assert.deepEqual((await liveOrigins(p2))?.sort(), ['o1', 'o2', 'o3'], 'no junk origin registered');

    // --- publish through proxy 1, play through proxy 2
    let pub = publish(`rtmp://127.0.0.1:${p1.rtmpPort}/live/cam`, { seconds: 240, gop: 25 });
    procs.push(pub);
    assert.ok(await waitFor(async () => (await pinOf(p2, KEY)) !== null, 15_000), 'the publish pinned the stream');
    const holder = (await pinOf(p2, KEY))!;
    const holderServer = origins.get(holder)!;
    assert.ok(
      await waitFor(async () => {
        const r = await fetch(holderServer.apiUrl('/api/v1/streams'));
        const j = (await r.json()) as { streams?: { name: string; publish?: { active: boolean } }[] };
        return j.streams?.some((s) => s.name === 'cam' && s.publish?.active === true) ?? false;
      }, 15_000),
      `origin ${holder} holds the publish`,
    );
    assertVideo(await probe(`rtmp://127.0.0.1:${p2.rtmpPort}/live/cam`), 'RTMP via proxy 2', 20);
    assertVideo(await probe(`http://127.0.0.1:${p2.httpPort}/live/cam.flv`), 'HTTP-FLV via proxy 2', 20);
    assertVideo(await probe(`http://127.0.0.1:${p2.httpPort}/live/cam.m3u8`, 4), 'HLS via proxy 2', 20);

    // --- Redis crashes and comes back while a player plays through proxy 2
    const player = decodeFrames(`rtmp://127.0.0.1:${p2.rtmpPort}/live/cam`, 14);
    assert.ok(await waitFor(async () => ((await p2.api('/api/v1/proxy/sessions')).body.rtmp_play as number) >= 1, 15_000), 'the player joined');
    await redis.crash();
    assert.ok(await waitFor(async () => (await liveOrigins(p2)) === null, 10_000), 'proxy 2 reports the store down');
    const during = await fetch(`http://127.0.0.1:${p2.httpPort}/live/cam.flv`);
    assert.equal(during.status, 503, 'a new route fails while Redis is down');
    assert.match(((await during.json()) as { message: string }).message, /origin store unavailable/);
    await redis.restart();
    // Origins re-register with their next heartbeat; the publisher's proxy re-pins the stream.
    assert.ok(await waitFor(async () => (await liveOrigins(p2))?.length === 3, 20_000), 'origins back after the Redis restart');
    assert.ok(await waitFor(async () => (await pinOf(p2, KEY)) === holder, 10_000), 'the pin is back on the same origin');
    assertVideo(await probe(`rtmp://127.0.0.1:${p2.rtmpPort}/live/cam`), 'RTMP via proxy 2 after the Redis restart', 20);
    const played = await player;
    assert.equal(played.code, 0, played.stderr.slice(-500));
    assert.ok(played.frames >= 14 * 25 * 0.8, `the player through the Redis restart decoded ${played.frames} frames`);

    // --- the origin holding the stream dies: the republish lands on a live origin
    holderServer.proc.kill('SIGKILL');
    await holderServer.exited;
    origins.delete(holder);
    await pub.done;
    assert.ok(await waitFor(async () => {
      const live = await liveOrigins(p1);
      return live !== null && live.length === 2 && !live.includes(holder);
    }, (TTL_S + 5) * 1000), 'the dead origin expired');
    pub = publish(`rtmp://127.0.0.1:${p1.rtmpPort}/live/cam`, { seconds: 120, gop: 25 });
    procs.push(pub);
    assert.ok(await waitFor(async () => {
      const pin = await pinOf(p2, KEY);
      return pin !== null && pin !== holder && ((await p1.api('/api/v1/proxy/sessions')).body.rtmp_publish as number) >= 1;
    }, 15_000), 'the republish pinned a live origin');
    assert.ok(origins.has((await pinOf(p2, KEY))!));
    assertVideo(await probe(`rtmp://127.0.0.1:${p2.rtmpPort}/live/cam`), 'RTMP via proxy 2 after failover', 20);
    assertVideo(await probe(`http://127.0.0.1:${p2.httpPort}/live/cam.flv`), 'HTTP-FLV via proxy 2 after failover', 20);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all([...origins.values()].map((o) => o.stop()));
    await Promise.all(proxies.map((p) => p.stop()));
    await redis.stop();
  }
});
