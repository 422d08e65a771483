/**
 * HLS at scale (docs/CLUSTER.md): Debian's nginx with `proxy_cache` in front
 * of Sluice's HLS. Playlists are kept one second (Sluice sends
 * `max-age=1`), segments for their life (`max-age=60` or more, `immutable`
 * from memory): players through the
 * cache play, and the second player's segments are cache HITs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server-process.js';
import { publish, probe } from '../helpers/ffmpeg.js';
import { freePort, waitForPort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

/** The configuration of docs/CLUSTER.md, with the test's ports and temp paths. */
function nginxConf(dir: string, port: number, upstream: number): string {
  return `
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  log_format cache '$request_uri $status $upstream_cache_status';
  access_log ${dir}/access.log cache;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=hls:10m max_size=1g inactive=2m use_temp_path=off;
  upstream sluice { server 127.0.0.1:${upstream}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_cache hls;
    proxy_cache_lock on;
    proxy_cache_use_stale updating;
    add_header X-Cache-Status $upstream_cache_status;
    location ~ \\.m3u8$ {
      proxy_cache_valid 200 1s;
      proxy_pass http://sluice;
    }
    location ~ \\.ts$ {
      proxy_cache_key $uri;
      proxy_cache_valid 200 60s;
      proxy_pass http://sluice;
    }
    location / { proxy_cache off; proxy_pass http://sluice; }
  }
}
`;
}

test('ffprobe plays HLS through nginx proxy_cache, and segments are served from the cache', async () => {
  const server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  hls { enabled on; hls_fragment 1; hls_window 20; hls_path ./html; hls_ctx off; hls_ts_ctx off; }
}
`,
  });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nginx-hls-'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port, server.httpPort));
  const nginx = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let nginxErr = '';
  nginx.stderr!.on('data', (d: Buffer) => (nginxErr += d.toString()));
  const exited = new Promise<void>((resolve) => nginx.once('exit', () => resolve()));
  const pub = publish(server.rtmpUrl('live/c'), { seconds: 40 });
  try {
    await waitForPort(port, 15_000).catch((err: Error) => {
      throw new Error(`nginx did not listen: ${err.message} ${nginxErr}`);
    });
    const base = `http://127.0.0.1:${port}`;
    assert.ok(await waitFor(async () => (await fetch(`${base}/live/c.m3u8`)).status === 200, 20_000), 'playlist through nginx');

    // What Sluice tells a cache (a live playlist from memory: half a segment of 1 s, at least one second).
    const pl = await fetch(`${base}/live/c.m3u8`);
    assert.equal(pl.headers.get('cache-control'), 'public, max-age=1');
    const text = await pl.text();
    const seg = text.split('\n').find((l) => l.endsWith('.ts'));
    assert.ok(seg, text);
    const first = await fetch(`${base}/live/${seg}`);
    // A segment from memory is immutable for 60 s or more; one read from disk says max-age=60.
    const segCache = /^public, max-age=(\d+)(, immutable)?$/.exec(String(first.headers.get('cache-control')));
    assert.ok(segCache && Number(segCache[1]) >= 60, `segment Cache-Control ${first.headers.get('cache-control')}`);
    await first.arrayBuffer();
    const again = await fetch(`${base}/live/${seg}`);
    assert.equal(again.headers.get('x-cache-status'), 'HIT');
    assert.deepEqual(Buffer.from(await again.arrayBuffer()).subarray(0, 1), Buffer.from([0x47]));

    // Two players one after the other: both play; the second one's segments come from the cache.
    for (let i = 0; i < 2; i++) {
      const r = await probe(`${base}/live/c.m3u8`, 3);
      assert.equal(r.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
      assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
      assert.ok(r.packets.length > 50, `player ${i + 1}: ${r.packets.length} packets`);
    }
    const log = readFileSync(join(dir, 'access.log'), 'utf8').trim().split('\n');
    const segHits = log.filter((l) => /\.ts 20[06] HIT$/.test(l)).length;
    const segMisses = log.filter((l) => /\.ts 20[06] MISS$/.test(l)).length;
    assert.ok(segHits >= 3, `segment HITs ${segHits}, MISSes ${segMisses}:\n${log.join('\n')}`);
    // A playlist is never kept for long: most playlist requests reach Sluice.
    const plHits = log.filter((l) => /\.m3u8 200 HIT$/.test(l)).length;
    const plAll = log.filter((l) => /\.m3u8 200 /.test(l)).length;
    assert.ok(plAll > plHits, `playlist: ${plHits} HITs of ${plAll}`);
  } finally {
    await pub.stop();
    nginx.kill('SIGTERM');
    const t = setTimeout(() => nginx.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
