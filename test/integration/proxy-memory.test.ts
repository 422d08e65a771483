/**
 * `sluice proxy` on its in-memory store (one proxy): two origins register,
 * a publish through the proxy lands on one and plays through it over
 * HTTP-FLV and HLS; when every origin has stopped beating, the proxy says
 * so instead of routing to one of them, over HTTP and RTMP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, type RunningServer } from '../helpers/server-process.js';
import { startProxy, type RunningProxy } from '../helpers/proxy-process.js';
import { probe, publish, decodeFrames, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { startProxyOrigin } from '../helpers/proxy-origin.js';

test('sluice proxy -t checks its config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-proxy-conf-'));
  try {
    writeFileSync(join(dir, 'ok.conf'), 'rtmp_server 1935; http_server 8080; system_api 12025; load_balancer memory; origin_ttl 5;\n');
    writeFileSync(join(dir, 'bad.conf'), 'load_balancer etcd;\n');
    const ok = spawnSync(process.execPath, [CLI, 'proxy', '-t', '-c', join(dir, 'ok.conf')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /is ok/);
    const bad = spawnSync(process.execPath, [CLI, 'proxy', '-t', '-c', join(dir, 'bad.conf')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /memory or redis/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one proxy on the memory store routes and never sends to an origin that stopped beating', { timeout: 180_000 }, async () => {
  const proxy: RunningProxy = await startProxy({ PROXY_LOAD_BALANCER_TYPE: 'memory', PROXY_ORIGIN_TTL: '2' });
  const origins: RunningServer[] = [];
  let pub: Proc | null = null;
  try {
    for (const id of ['m1', 'm2']) origins.push(await startProxyOrigin(id, proxy, { hls: true }));
    assert.ok(await waitFor(async () => ((await proxy.api('/api/v1/proxy/origins')).body.origins as unknown[]).length === 2, 20_000));
    pub = publish(`rtmp://127.0.0.1:${proxy.rtmpPort}/live/mem`, { seconds: 120, gop: 25 });
    assert.ok(await waitFor(async () => ((await proxy.api('/api/v1/proxy/sessions')).body.rtmp_publish as number) === 1, 15_000), 'publisher joined');
    const flv = await probe(`http://127.0.0.1:${proxy.httpPort}/live/mem.flv`);
    assert.equal(flv.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    assert.equal(flv.streams.find((s) => s.codec_type === 'video')?.width, 320);
    const hls = await decodeFrames(`http://127.0.0.1:${proxy.httpPort}/live/mem.m3u8`, 3);
    assert.ok(hls.frames >= 50, `HLS via the proxy decoded ${hls.frames} frames`);
    const other = await fetch(`http://127.0.0.1:${proxy.httpPort}/index.html`);
    assert.equal(other.status, 404);

    await pub.stop();
    pub = null;
    await Promise.all(origins.map((o) => o.stop()));
    origins.length = 0;
    assert.ok(await waitFor(async () => ((await proxy.api('/api/v1/proxy/origins')).body.origins as unknown[]).length === 0, 10_000), 'origins expired');
    const r = await fetch(`http://127.0.0.1:${proxy.httpPort}/live/mem.flv`);
    assert.equal(r.status, 503);
    assert.match(((await r.json()) as { message: string }).message, /no live origin/);
    const rtmp = await decodeFrames(`rtmp://127.0.0.1:${proxy.rtmpPort}/live/mem`, 2);
    assert.notEqual(rtmp.code, 0, 'an RTMP play with no live origin fails');
    assert.ok(await waitFor(() => proxy.logs.some((l) => l.msg === 'rtmp proxy: no route, connection cut' && String(l['err']).includes('no live origin')), 5000));
  } finally {
    await pub?.stop();
    await Promise.all(origins.map((o) => o.stop()));
    await proxy.stop();
  }
});
