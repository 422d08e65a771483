import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { srsJson, Fixed2 } from '../../src/api/srs-json.js';
import { paging } from '../../src/api/api-handler.js';
import { authorize, changesState, needsAuth, needsRtcBearer } from '../../src/api/api-auth.js';
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
  const cfg = { enabled: true, type: '' as const, username: 'admin', password: 'secret', token: 'full-token', readonlyToken: 'ro-token', rtcBearer: false };
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
    assert.deepEqual(authorize({ ...cfg, enabled: false }, req(), true), { ok: true, access: 'full' });
  });

  test('basic user: full; wrong or missing: 401 with challenge; malformed: 401 without', () => {
    assert.deepEqual(authorize(cfg, req(basic('admin', 'secret')), true), { ok: true, access: 'full' });
    assert.deepEqual(authorize(cfg, req(basic('admin', 'nope')), false), { ok: false, status: 401, challenge: true });
    assert.deepEqual(authorize(cfg, req(), false), { ok: false, status: 401, challenge: true });
    assert.deepEqual(authorize(cfg, req(`Basic ${Buffer.from('a:b:c').toString('base64')}`), false), { ok: false, status: 401, challenge: false });
    assert.deepEqual(authorize(cfg, req('Digest x'), false), { ok: false, status: 401, challenge: false });
  });

  test('a change is decided by the action: any method but GET/HEAD, and every raw rpc but raw and reload-fetch', () => {
    const u = (q: string): URL => new URL(`http://x${q}`);
    assert.equal(changesState('GET', u('/api/v1/raw?rpc=reload')), true);
    assert.equal(changesState('GET', u('/api/v1/raw/?rpc=reload')), true);
    assert.equal(changesState('GET', u('/api/v1/raw?rpc=future-write')), true);
    assert.equal(changesState('GET', u('/api/v1/raw?rpc=raw')), false);
    assert.equal(changesState('GET', u('/api/v1/raw?rpc=reload-fetch')), false);
    assert.equal(changesState('HEAD', u('/api/v1/streams/')), false);
    assert.equal(changesState('DELETE', u('/api/v1/clients/abc')), true);
    assert.equal(changesState('POST', u('/api/v1/versions')), true);
  });

  test('bearer tokens: full token writes, read-only token reads only (403 on a change)', () => {
    assert.deepEqual(authorize(cfg, req('Bearer full-token'), true), { ok: true, access: 'full' });
    assert.deepEqual(authorize(cfg, req('Bearer ro-token'), false), { ok: true, access: 'read' });
    assert.deepEqual(authorize(cfg, req('Bearer ro-token'), true), { ok: false, status: 403, challenge: false });
    assert.deepEqual(authorize(cfg, req('Bearer wrong'), false), { ok: false, status: 401, challenge: true });
    assert.deepEqual(authorize({ ...cfg, token: '', readonlyToken: '' }, req('Bearer '), false), { ok: false, status: 401, challenge: true });
  });
});

describe('auth, SRS 7 type and rtc_bearer_enabled', () => {
  const req = (authorization?: string): IncomingMessage => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;
  const basic = `Basic ${Buffer.from('admin:secret').toString('base64')}`;
  const cfg = { enabled: true, type: '' as '' | 'basic' | 'bearer', username: 'admin', password: 'secret', token: 'tok', readonlyToken: '', rtcBearer: false };

  test('type keeps one scheme: the other is a 401 with a challenge', () => {
    assert.deepEqual(authorize({ ...cfg, type: 'basic' }, req(basic), true), { ok: true, access: 'full' });
    assert.deepEqual(authorize({ ...cfg, type: 'basic' }, req('Bearer tok'), true), { ok: false, status: 401, challenge: true });
    assert.deepEqual(authorize({ ...cfg, type: 'bearer' }, req('Bearer tok'), true), { ok: true, access: 'full' });
    assert.deepEqual(authorize({ ...cfg, type: 'bearer' }, req(basic), true), { ok: false, status: 401, challenge: true });
  });

  test('rtc_bearer_enabled guards /rtc/ paths with the bearer token only', () => {
    assert.equal(needsRtcBearer(cfg, '/rtc/v1/whip/'), false);
    assert.equal(needsRtcBearer({ ...cfg, rtcBearer: true }, '/rtc/v1/whip/'), true);
    assert.equal(needsRtcBearer({ ...cfg, rtcBearer: true, enabled: false }, '/rtc/v1/whip/'), false);
    assert.equal(needsRtcBearer({ ...cfg, rtcBearer: true }, '/api/v1/streams/'), false);
    assert.deepEqual(authorize(cfg, req(basic), true, 'bearer'), { ok: false, status: 401, challenge: true });
    assert.deepEqual(authorize(cfg, req('Bearer tok'), true, 'bearer'), { ok: true, access: 'full' });
  });
});

test('static paths never leave their directory', () => {
  assert.equal(jailedPath('/srv/web', 'index.html'), '/srv/web/index.html');
  assert.equal(jailedPath('/srv/web', '../etc/passwd'), null);
  assert.equal(jailedPath('/srv/web', 'a/../../x'), null);
  assert.equal(jailedPath('/srv/web', 'a\0b'), null);
});
