/**
 * vhost.http_static through the one static-file server: a vhost's mount
 * (by Host header, and by path prefix) serves its own dir with the right
 * content type; other hosts keep http_server.dir; traversal in any spelling
 * and symlinks out of the dir serve nothing outside it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server-process.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ { }
vhost a.example { http_static { enabled on; mount [vhost]/; dir ./static-[vhost]; } }
vhost files { http_static { enabled on; mount /files; dir ./static-files; } }
`;

let server: RunningServer;

before(async () => {
  server = await startServer({ config: CONFIG });
  const d = server.dir;
  for (const sub of ['html', 'static-a.example/sub', 'static-files']) mkdirSync(join(d, sub), { recursive: true });
  writeFileSync(join(d, 'secret.txt'), 'SECRET');
  writeFileSync(join(d, 'html', 'page.html'), '<p>web root</p>');
  writeFileSync(join(d, 'static-a.example', 'page.html'), '<p>vhost a</p>');
  writeFileSync(join(d, 'static-a.example', 'sub', 'index.html'), '<p>a index</p>');
  writeFileSync(join(d, 'static-a.example', 'style.css'), 'p{}');
  writeFileSync(join(d, 'static-files', 'doc.json'), '{"ok":true}');
  symlinkSync(join(d, 'secret.txt'), join(d, 'static-a.example', 'link.txt'));
});

after(async () => {
  await server?.stop();
});

function get(path: string, host = 'localhost'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.httpPort, path, headers: { Host: `${host}:${server.httpPort}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the vhost mount answers its Host with its own dir; other hosts get http_server.dir', async () => {
  const a = await get('/page.html', 'a.example');
  assert.equal(a.status, 200);
  assert.match(a.type, /^text\/html/);
  assert.equal(a.body, '<p>vhost a</p>');
  const css = await get('/style.css', 'A.Example');
  assert.equal(css.status, 200);
  assert.match(css.type, /^text\/css/);
  assert.equal((await get('/sub/', 'a.example')).body, '<p>a index</p>');
  const other = await get('/page.html', 'other.example');
  assert.equal(other.body, '<p>web root</p>');
});

test('a path mount strips its prefix and serves any host', async () => {
  const doc = await get('/files/doc.json');
  assert.equal(doc.status, 200);
  assert.match(doc.type, /^application\/json/);
  assert.equal(doc.body, '{"ok":true}');
  assert.equal((await get('/files/missing.json')).status, 404);
});

test('nothing outside the dir is served, however the path is spelled', async () => {
  for (const [path, host] of [
    ['/../secret.txt', 'a.example'],
    ['/%2e%2e/secret.txt', 'a.example'],
    ['/sub/%2E%2E/%2E%2E/secret.txt', 'a.example'],
    ['/files/..%2fsecret.txt', 'x'],
    ['/files/%252e%252e/secret.txt', 'x'],
    ['/files/%00', 'x'],
    ['/link.txt', 'a.example'],
  ] as const) {
    const r = await get(path, host);
    assert.ok(r.status === 403 || r.status === 404, `${path}: ${r.status}`);
    assert.ok(!r.body.includes('SECRET'), path);
  }
});
