/**
 * Origin cluster (`origin_cluster on; coworkers ...`): three origins, one
 * publisher on the third. A player on the first is redirected: HTTP-FLV and
 * HLS by HTTP 302 (ffmpeg follows and plays), RTMP by SRS's RTMP 302, which
 * ffmpeg's RTMP client does not follow (it reports the server's error) but an
 * edge does: an edge pointed at the wrong origin plays the stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, decodeFrames, run } from '../helpers/ffmpeg.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

function originConfig(api: number, coworkers: number[]): string {
  return `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen ${api}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  cluster { origin_cluster on; coworkers ${coworkers.map((p) => `127.0.0.1:${p}`).join(' ')}; }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  hls { enabled on; hls_fragment 1; hls_window 10; hls_path ./html; hls_ctx off; hls_ts_ctx off; }
}
`;
}

interface Cluster {
  origins: RunningServer[];
  apis: number[];
}

async function withCluster(fn: (c: Cluster) => Promise<void>): Promise<void> {
  const apis = [await freePort(), await freePort(), await freePort()];
  const origins: RunningServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const others = apis.filter((_, j) => j !== i);
      origins.push(await startServer({ config: originConfig(apis[i]!, others) }));
    }
    await fn({ origins, apis });
  } finally {
    for (const o of origins) await o.stop();
  }
}

test('a player on the wrong origin is sent to the one that publishes the stream', async () => {
  await withCluster(async ({ origins, apis }) => {
    const [a, , c] = origins as [RunningServer, RunningServer, RunningServer];
    const pub = publish(c.rtmpUrl('live/s'), { seconds: 40 });
    try {
      await c.waitForLog((l) => l.msg === 'publish started', 15_000);

      // The coworker API, as SRS's origins ask it.
      const ask = async (api: number) =>
        (await (await fetch(`http://127.0.0.1:${api}/api/v1/clusters?vhost=__defaultVhost__&ip=127.0.0.1&app=live&stream=s&coworker=127.0.0.1:${api}`, { method: 'POST' })).json()) as {
          code: number;
          data: { origin: { ip: string; port: number; http_port?: number } | null };
        };
      assert.equal((await ask(apis[0]!)).data.origin, null);
      const found = await ask(apis[2]!);
      assert.equal(found.code, 0);
      assert.deepEqual([found.data.origin?.ip, found.data.origin?.port, found.data.origin?.http_port], ['127.0.0.1', c.rtmpPort, c.httpPort]);

      // HTTP-FLV on the wrong origin: a 302 to the right one, which ffmpeg follows.
      const res = await fetch(a.httpUrl('live/s.flv?token=t1'), { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), c.httpUrl('live/s.flv?token=t1'));
      await res.body?.cancel();
      const flv = await probe(a.httpUrl('live/s.flv'), 3);
      assert.equal(flv.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
      assert.equal(flv.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
      const frames = await decodeFrames(a.httpUrl('live/s.flv'), 3);
      assert.ok(frames.frames >= 50, `decoded ${frames.frames} frames through the redirect`);

      // RTMP on the wrong origin: SRS's RTMP 302, seen by ffmpeg as the server's error (it does not follow redirects).
      const p = run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-show_streams', a.rtmpUrl('live/s')], 30_000);
      const code = await p.done;
      assert.notEqual(code, 0);
      assert.match(p.stderr(), /RTMP 302 Redirect/);
      await a.waitForLog((l) => l.msg === 'RTMP 302 redirect' && typeof l.url === 'string' && l.url === `rtmp://127.0.0.1:${c.rtmpPort}/live/s`, 5000);

      // HLS: the playlist is redirected; the segments then come from the origin that has them.
      assert.ok(await waitFor(async () => (await fetch(c.httpUrl('live/s.m3u8'))).status === 200, 20_000), 'HLS playlist at the publishing origin');
      const pl = await fetch(a.httpUrl('live/s.m3u8'), { redirect: 'manual' });
      assert.equal(pl.status, 302);
      assert.equal(pl.headers.get('location'), c.httpUrl('live/s.m3u8'));
      await pl.body?.cancel();
      const hls = await probe(a.httpUrl('live/s.m3u8'), 3);
      assert.equal(hls.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
      assert.ok(hls.packets.length > 50, `${hls.packets.length} HLS packets through the redirect`);
    } finally {
      await pub.stop();
    }
  });
});

test('an edge pointed at the wrong origin follows the RTMP 302 and plays', async () => {
  await withCluster(async ({ origins }) => {
    const [a, , c] = origins as [RunningServer, RunningServer, RunningServer];
    const pub = publish(c.rtmpUrl('live/e'), { seconds: 30 });
    const edge = await startServer({
      config: `
listen {{RTMP}};
srs_log_tank console;
vhost __defaultVhost__ { cluster { mode remote; origin 127.0.0.1:${a.rtmpPort}; } }
`,
    });
    try {
      await c.waitForLog((l) => l.msg === 'publish started', 15_000);
      const r = await probe(edge.rtmpUrl('live/e'), 3);
      assert.equal(r.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
      assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
      assert.ok(r.packets.length > 50, `${r.packets.length} packets at the edge`);
      assert.ok(edge.logs.some((l) => l.msg === 'origin redirected the edge pull (RTMP 302)'));
    } finally {
      await edge.stop();
      await pub.stop();
    }
  });
});

test('token_traverse: the edge admits an RTMP player only once the origin accepted its tcUrl (on_connect)', async () => {
  const connects: string[] = [];
  const hooks = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(text || '{}') as { action?: string; tcUrl?: string };
      if (body.action === 'on_connect') connects.push(body.tcUrl ?? '');
      const ok = body.action !== 'on_connect' || (body.tcUrl ?? '').includes('token=good') || !(body.tcUrl ?? '').includes('token=');
      res.end(ok ? '0' : '{"code":403}');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`;
  const origin = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
vhost __defaultVhost__ { http_hooks { enabled on; on_connect ${hookUrl}; } }
`,
  });
  let edge: RunningServer | null = null;
  const pub = publish(origin.rtmpUrl('live/t'), { seconds: 30 });
  try {
    edge = await startServer({
      config: `
listen {{RTMP}};
srs_log_tank console;
vhost __defaultVhost__ { cluster { mode remote; origin 127.0.0.1:${origin.rtmpPort}; token_traverse on; } }
`,
    });
    await origin.waitForLog((l) => l.msg === 'publish started', 15_000);
    const good = await probe(`rtmp://127.0.0.1:${edge.rtmpPort}/live?token=good/t`, 2);
    assert.equal(good.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    assert.ok(connects.some((t) => t === `rtmp://127.0.0.1:${edge!.rtmpPort}/live?token=good`), connects.join(' '));
    const p = run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-show_streams', `rtmp://127.0.0.1:${edge.rtmpPort}/live?token=bad/t`], 30_000);
    assert.notEqual(await p.done, 0);
    await edge.waitForLog((l) => l.msg === 'session denied' && typeof l.reason === 'string' && l.reason.startsWith('token traverse refused'), 5000);
  } finally {
    await pub.stop();
    await edge?.stop();
    await origin.stop();
    hooks.close();
  }
});
