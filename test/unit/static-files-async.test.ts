/**
 * The asynchronous static file server (no sync fs on the event loop) and
 * the HTTP server's fallback routes, asked only after every live route.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findStaticFile, serveStaticFile } from '../../src/core/static-files.js';
import { ServerContext } from '../../src/core/server-context.js';
import { createHttpServer } from '../../src/core/http-server.js';
import { httpLiveFeature } from '../../src/servers/http-live/http-live-feature.js';
import { parseConfigText } from '../../src/config/server-config.js';
import { silentLogger } from '../../src/log/logger.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

let dir: string;
let root: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-static-'));
  root = join(dir, 'www');
  mkdirSync(join(root, 'live'), { recursive: true });
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'live', 'seg-1.ts'), Buffer.alloc(1000, 0x47));
  writeFileSync(join(root, 'docs', 'index.html'), '<p>hi</p>');
  writeFileSync(join(dir, 'secret.txt'), 'TOPSECRET');
  symlinkSync(join(dir, 'secret.txt'), join(root, 'link.txt'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('async static files', () => {
  test('the module uses no synchronous fs call', () => {
    const src = readFileSync(new URL('../../../src/core/static-files.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(src, /\b\w+Sync\(/);
  });

  test('find: files, directory index, nothing outside the roots', async () => {
    assert.equal((await findStaticFile([join(dir, 'none'), root], '/live/seg-1.ts'))?.abs, join(root, 'live', 'seg-1.ts'));
    assert.equal((await findStaticFile([root], '/docs'))?.abs, join(root, 'docs', 'index.html'));
    assert.equal(await findStaticFile([root], '/live/missing.ts'), null);
    assert.equal(await findStaticFile([root], '/live'), null, 'a directory without index.html');
  });

  test('serve: whole file, range, HEAD, 416, missing file declined, symlink out of the root refused', async () => {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      void serveStaticFile([root], req, res, url, url.pathname, { 'Access-Control-Allow-Origin': '*' }).then((ok) => {
        if (!ok) {
          res.writeHead(599);
          res.end();
        }
      });
    });
    const port = await listen(server);
    try {
      const whole = await get(port, '/live/seg-1.ts');
      assert.equal(whole.status, 200);
      assert.equal(whole.body.length, 1000);
      assert.equal(whole.headers['content-length'], '1000');
      assert.equal(whole.headers['content-type'], 'video/MP2T');
      assert.equal(whole.headers['cache-control'], 'public, max-age=60');
      assert.equal(whole.headers['access-control-allow-origin'], '*');
      const part = await get(port, '/live/seg-1.ts', 'GET', { Range: 'bytes=10-19' });
      assert.equal(part.status, 206);
      assert.equal(part.headers['content-range'], 'bytes 10-19/1000');
      assert.equal(part.body.length, 10);
      const head = await get(port, '/live/seg-1.ts', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '1000');
      assert.equal(head.body.length, 0);
      assert.equal((await get(port, '/live/seg-1.ts', 'GET', { Range: 'bytes=5000-' })).status, 416);
      assert.equal((await get(port, '/live/nope.ts')).status, 599, 'declined, nothing sent');
      const link = await get(port, '/link.txt');
      assert.equal(link.status, 404);
      assert.ok(!link.body.toString().includes('TOPSECRET'));
      const idx = await get(port, '/docs/');
      assert.equal(idx.status, 200);
      assert.equal(idx.headers['content-type'], 'text/html');
    } finally {
      server.close();
    }
  });
});

describe('HTTP server fallback routes', () => {
  test('asked after the live routes and mounts, in order, then 404', async () => {
    const config = parseConfigText('listen 19350;\nhttp_server { enabled on; listen 18080; }\nvhost __defaultVhost__ { http_remux { enabled on; mount [vhost]/[app]/[stream].flv; } }', 'test.conf', {});
    const ctx = new ServerContext(config, silentLogger());
    const asked: string[] = [];
    ctx.routes.stream.push((_req, res, url) => {
      if (url.pathname !== '/sync') return false;
      res.end('sync route');
      return true;
    });
    ctx.routes.fallback.push(async (_req, _res, url) => {
      asked.push(`a:${url.pathname}`);
      await new Promise((r) => setTimeout(r, 5));
      return false;
    });
    ctx.routes.fallback.push(async (_req, res, url) => {
      asked.push(`b:${url.pathname}`);
      if (url.pathname === '/boom') throw new Error('disk on fire');
      if (url.pathname !== '/file.txt') return false;
      res.end('from disk');
      return true;
    });
    // The HTTP-FLV mount belongs to the HTTP live wing, installed after the routes above.
    const live = await httpLiveFeature.install(ctx);
    const server = createHttpServer(ctx);
    const port = await listen(server);
    try {
      assert.equal((await get(port, '/sync')).body.toString(), 'sync route');
      assert.equal((await get(port, '/file.txt')).body.toString(), 'from disk');
      const missing = await get(port, '/missing.txt');
      assert.equal(missing.status, 404);
      assert.equal((await get(port, '/boom')).status, 404, 'a failing fallback ends in 404');
      assert.deepEqual(asked, ['a:/file.txt', 'b:/file.txt', 'a:/missing.txt', 'b:/missing.txt', 'a:/boom', 'b:/boom']);
      // A live HTTP-FLV mount is answered by its route, never by a fallback (no publisher: the player waits).
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/live/stream.flv' }, (res) => {
          assert.equal(res.statusCode, 200);
          req.destroy();
          resolve();
        });
        req.on('error', reject);
      });
      assert.ok(!asked.some((a) => a.includes('.flv')));
    } finally {
      server.closeAllConnections();
      server.close();
      await live.stop?.();
      ctx.sources.close();
    }
  });
});
