/**
 * A read-only API credential never changes the server's state, whatever the
 * HTTP method: `GET /api/v1/raw?rpc=reload` and a JSONP `method=DELETE` kick
 * are refused (403) for the read-only token and work with the full one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, BASIC_CONFIG, type RunningServer } from '../helpers/server-process.js';

const RO = { Authorization: 'Bearer ro-tok' };
const FULL = { Authorization: 'Bearer full-tok' };

let server: RunningServer;
before(async () => {
  server = await startServer({
    config: BASIC_CONFIG.replace(
      'http_api { enabled on; listen {{API}}; }',
      'http_api { enabled on; listen {{API}}; raw_api { enabled on; allow_reload on; } auth { enabled on; username admin; password s3cret; token full-tok; readonly_token ro-tok; } }',
    ),
  });
});
after(async () => server?.stop());

const reloads = (): number => server.logs.filter((l) => l.msg === 'config reloaded').length;

test('read-only token: reads answer, every change is refused with 403 and changes nothing', async () => {
  const reload = await fetch(server.apiUrl('api/v1/raw?rpc=reload'), { headers: RO });
  assert.equal(reload.status, 403);
  assert.equal(await reload.text(), '');
  const jsonpReload = await fetch(server.apiUrl('api/v1/raw?rpc=reload&callback=cb&method=GET'), { headers: RO });
  assert.equal(jsonpReload.status, 403);
  const jsonpKick = await fetch(server.apiUrl('api/v1/clients/abcdefgh?callback=cb&method=DELETE'), { headers: RO });
  assert.equal(jsonpKick.status, 403);
  const kick = await fetch(server.apiUrl('api/v1/clients/abcdefgh'), { method: 'DELETE', headers: RO });
  assert.equal(kick.status, 403);
  const post = await fetch(server.apiUrl('api/v1/raw?rpc=raw'), { method: 'POST', headers: RO });
  assert.equal(post.status, 403);

  const raw = await fetch(server.apiUrl('api/v1/raw?rpc=raw'), { headers: RO });
  assert.equal(((await raw.json()) as { code: number }).code, 0);
  const fetchState = await fetch(server.apiUrl('api/v1/raw?rpc=reload-fetch'), { headers: RO });
  assert.deepEqual(((await fetchState.json()) as { data: { rid: string } }).data.rid, '');

  // The full token's reload is the first and only one: the refused ones did nothing.
  const full = await fetch(server.apiUrl('api/v1/raw?rpc=reload'), { headers: FULL });
  assert.deepEqual(await full.json(), { code: 0 });
  await server.waitForLog((l) => l.msg === 'config reloaded');
  assert.equal(reloads(), 1);
  const after = await fetch(server.apiUrl('api/v1/raw?rpc=reload-fetch'), { headers: RO });
  assert.notEqual(((await after.json()) as { data: { rid: string } }).data.rid, '');
});

test('full token: a JSONP method=DELETE kick reaches the handler (unknown client → 2049)', async () => {
  const kick = await fetch(server.apiUrl('api/v1/clients/abcdefgh?callback=cb&method=DELETE'), { headers: FULL });
  assert.equal(kick.status, 200);
  assert.equal(await kick.text(), 'cb({"code":2049})');
});
