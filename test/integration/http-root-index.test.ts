/**
 * `/` and `/index.html` on the HTTP port: the web root's (`http_server.dir`)
 * index.html when there is one, a redirect to the console when there is none;
 * the console stays under /console/ either way.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server-process.js';

let server: RunningServer;
before(async () => {
  server = await startServer();
});
after(async () => server?.stop());

test('no index.html in http_server.dir: / and /index.html redirect to the console', async () => {
  for (const p of ['', 'index.html']) {
    const r = await fetch(server.httpUrl(p), { redirect: 'manual' });
    assert.equal(r.status, 302, p);
    assert.equal(r.headers.get('location'), '/console/', p);
  }
});

test('index.html in http_server.dir: / and /index.html serve it; /console/ is still the console', async () => {
  const html = join(server.dir, 'html'); // BASIC_CONFIG: http_server.dir ./html, the server runs in server.dir
  mkdirSync(html, { recursive: true });
  const page = '<!doctype html><title>operator page</title>';
  writeFileSync(join(html, 'index.html'), page);
  try {
    for (const p of ['', 'index.html']) {
      const r = await fetch(server.httpUrl(p), { redirect: 'manual' });
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('content-type') ?? '', /text\/html/, p);
      assert.equal(await r.text(), page, p);
    }
    const consolePage = await fetch(server.httpUrl('console/'));
    assert.equal(consolePage.status, 200);
    assert.notEqual(await consolePage.text(), page);
  } finally {
    rmSync(join(html, 'index.html'), { force: true });
  }
  // Gone again: back to the console.
  const r = await fetch(server.httpUrl(''), { redirect: 'manual' });
  assert.equal(r.status, 302);
});
