import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { srsJson, Fixed2 } from '../../src/api/srs-json.js';
import { paging } from '../../src/api/api-handler.js';
import { authorize, needsAuth } from '../../src/api/api-auth.js';
import { jailedPath } from '../../src/core/path-jail.js';

describe('SRS JSON', () => {
  test('compact, ordered, floats with two decimals', () => {
    assert.equal(srsJson({ code: 0, a: new Fixed2(1), b: new Fixed2(0.125), c: 'x"y', d: [1, true, null], e: undefined }), '{"code":0,"a":1.00,"b":0.13,"c":"x\\"y","d":[1,true,null]}');
    assert.equal(srsJson({ n: NaN, f: new Fixed2(Infinity) }), '{"n":0,"f":0.00}');
  });
});

describe('paging', () => {
  const p = (q: string): { start: number; count: number } => paging(new URL(`http://x/api/v1/streams/${q}`));
  test('defaults 0/10, count at least 10, negatives and junk as 0', () => {
    assert.deepEqual(p(''), { start: 0, count: 10 });
    assert.deepEqual(p('?start=3&count=2'), { start: 3, count: 10 });
    assert.deepEqual(p('?start=-5&count=50'), { start: 0, count: 50 });
    assert.deepEqual(p('?start=abc&count=xyz'), { start: 0, count: 10 });
  });
});

describe('auth', () => {
  const cfg = { enabled: true, username: 'admin', password: 'secret', token: 'full-token', readonlyToken: 'ro-token' };
  const req = (authorization?: string): IncomingMessage => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  test('only /api/ paths are guarded', () => {
    assert.equal(needsAuth('/api/v1/streams/'), true);
    assert.equal(needsAuth('/x/api/y'), true);
    assert.equal(needsAuth('/rtc/v1/whep/'), false);
    assert.equal(needsAuth('/metrics'), false);
    assert.equal(needsAuth('/console/'), false);
  });

  test('off: everything allowed', () => {
    assert.deepEqual(authorize({ ...cfg, enabled: false }, req(), 'DELETE'), { ok: true, access: 'full' });
  });

  test('basic user: full; wrong or missing: 401 with challenge; malformed: 401 without', () => {
    assert.deepEqual(authorize(cfg, req(basic('admin', 'secret')), 'DELETE'), { ok: true, access: 'full' });
    assert.deepEqual(authorize(cfg, req(basic('admin', 'nope')), 'GET'), { ok: false, status: 401, challenge: true });
    assert.deepEqual(authorize(cfg, req(), 'GET'), { ok: false, status: 401, challenge: true });
    assert.deepEqual(authorize(cfg, req(`Basic ${Buffer.from('a:b:c').toString('base64')}`), 'GET'), { ok: false, status: 401, challenge: false });
    assert.deepEqual(authorize(cfg, req('Digest x'), 'GET'), { ok: false, status: 401, challenge: false });
  });

  test('bearer tokens: full token writes, read-only token reads only (403 on DELETE)', () => {
    assert.deepEqual(authorize(cfg, req('Bearer full-token'), 'DELETE'), { ok: true, access: 'full' });
    assert.deepEqual(authorize(cfg, req('Bearer ro-token'), 'GET'), { ok: true, access: 'read' });
    assert.deepEqual(authorize(cfg, req('Bearer ro-token'), 'DELETE'), { ok: false, status: 403, challenge: false });
    assert.deepEqual(authorize(cfg, req('Bearer wrong'), 'GET'), { ok: false, status: 401, challenge: true });
    assert.deepEqual(authorize({ ...cfg, token: '', readonlyToken: '' }, req('Bearer '), 'GET'), { ok: false, status: 401, challenge: true });
  });
});

test('static paths never leave their directory', () => {
  assert.equal(jailedPath('/srv/web', 'index.html'), '/srv/web/index.html');
  assert.equal(jailedPath('/srv/web', '../etc/passwd'), null);
  assert.equal(jailedPath('/srv/web', 'a/../../x'), null);
  assert.equal(jailedPath('/srv/web', 'a\0b'), null);
});
