/**
 * JWT stream authentication: where tokens are read from, how grants match,
 * exp/nbf with the leeway, `alg: none` and tampered tokens, and the JWKS
 * cache (refresh on an unknown kid, a key server that is down).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, generateKeyPair, exportJWK, base64url, type JWK, type CryptoKey } from 'jose';
import { ServerContext } from '../../src/core/server-context.js';
import { parseConfigText } from '../../src/config/server-config.js';
import { silentLogger } from '../../src/log/logger.js';
import { AccessDenied } from '../../src/core/session-policy.js';
import type { ClientSession, ClientType } from '../../src/core/client-registry.js';
import { JwtPolicy } from '../../src/ops/auth/jwt-policy.js';
import { grantsOf, granted, streamMatches } from '../../src/ops/auth/jwt-grants.js';
import { tokenInQuery, tokenOf, tokenHint } from '../../src/ops/auth/jwt-token-source.js';
import { JwksKeySet, KeyUnavailable } from '../../src/ops/auth/jwks-key-set.js';
import { addQueryToMediaUris, mediaPaths, segmentPaths } from '../../src/format/m3u8.js';
import { clip } from '../../src/log/clip.js';

const SECRET = 'a-shared-secret-of-at-least-32-characters';
const now = (): number => Math.floor(Date.now() / 1000);

function session(over: Partial<ClientSession> & { type?: ClientType } = {}): ClientSession & { closedWith: string | null } {
  const s = {
    id: over.id ?? 'c1',
    ip: '127.0.0.1',
    createdAt: Date.now(),
    type: over.type ?? ('fmle-publish' as ClientType),
    vhost: over.vhost ?? '__defaultVhost__',
    app: over.app ?? 'live',
    stream: over.stream ?? 'cam1',
    param: over.param ?? '',
    tcUrl: over.tcUrl ?? 'rtmp://127.0.0.1/live',
    pageUrl: '',
    bearer: over.bearer ?? '',
    closedWith: null as string | null,
    bytesIn: () => 0,
    bytesOut: () => 0,
    close(reason: string) {
      s.closedWith = reason;
    },
  };
  return s;
}

function contextWith(jwt: string): ServerContext {
  const cfg = parseConfigText(`listen 19350;\nvhost __defaultVhost__ { jwt { ${jwt} } }\nvhost open.example { }`, 'test.conf', {});
  return new ServerContext(cfg, silentLogger());
}

function hs256(claims: Record<string, unknown>, opts: { exp?: number; nbf?: number; secret?: string } = {}): Promise<string> {
  let j = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (opts.exp !== undefined) j = j.setExpirationTime(opts.exp);
  if (opts.nbf !== undefined) j = j.setNotBefore(opts.nbf);
  return j.sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

/** Runs one admission point; returns 'ok' or the refusal's status and message. */
async function verdict(p: JwtPolicy, point: 'onPublish' | 'onPlay', s: ClientSession): Promise<'ok' | { status: number; code: number; message: string }> {
  try {
    await p[point](s);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof AccessDenied, String(err));
    return { status: err.status, code: err.code, message: err.message };
  }
}

describe('token sources', () => {
  test('token= in a param with or without its leading ?, among other keys (the SRT streamid form)', () => {
    assert.equal(tokenInQuery('?token=abc'), 'abc');
    assert.equal(tokenInQuery('token=abc&k=v'), 'abc');
    assert.equal(tokenInQuery('k=v&token=abc'), 'abc');
    assert.equal(tokenInQuery('?vhost=x&token=a.b.c&upstream=rtc'), 'a.b.c');
    assert.equal(tokenInQuery('?mytoken=abc'), '');
    assert.equal(tokenInQuery(''), '');
  });

  test('bearer first, then the param, then the tcUrl query', () => {
    assert.equal(tokenOf(session({ bearer: 'B', param: '?token=P', tcUrl: 'rtmp://h/live?token=T' })), 'B');
    assert.equal(tokenOf(session({ param: '?token=P', tcUrl: 'rtmp://h/live?token=T' })), 'P');
    assert.equal(tokenOf(session({ tcUrl: 'rtmp://h/live?token=T#frag' })), 'T');
    assert.equal(tokenOf(session({ param: 'token=S&latency=120' })), 'S');
    assert.equal(tokenOf(session()), '');
  });

  test('the log hint never holds the token', () => {
    const t = 'eyJhbGciOiJIUzI1NiJ9.eyJzbHVpY2UiOnt9fQ.c2lnbmF0dXJl';
    const h = tokenHint(t);
    assert.ok(!h.includes(t.slice(0, 20)) && !h.includes('c2lnbmF0dXJl'), h);
    assert.match(h, /^sha256:[0-9a-f]{12} \(\d+ chars\)$/);
  });

  test('log texts show a token= value as its first 4 characters and length', () => {
    assert.equal(clip(`?vhost=v&token=${'x'.repeat(40)}&k=1`), '?vhost=v&token=xxxx…(40 chars)&k=1');
    assert.equal(clip('rtmp://h/live?token=short'), 'rtmp://h/live?token=***');
    assert.equal(clip('?mytoken_x=1'), '?mytoken_x=1');
  });
});

describe('grants', () => {
  test('glob patterns on app/stream', () => {
    assert.ok(streamMatches('live/*', 'live/cam1'));
    assert.ok(streamMatches('*', 'any/thing'));
    assert.ok(streamMatches('live/cam*', 'live/cam1'));
    assert.ok(streamMatches('*/cam1', 'live/cam1'));
    assert.ok(streamMatches('li*/c*1', 'live/cam1'));
    assert.ok(!streamMatches('live/cam1', 'live/cam10'));
    assert.ok(!streamMatches('live/*', 'vod/cam1'));
    assert.ok(!streamMatches('a*b*c', 'abbc'.slice(0, 3)));
    assert.ok(!streamMatches('ab*ba', 'aba'), 'prefix and suffix must not overlap');
  });

  test('claim shape: lists, a bare string, missing or malformed claims', () => {
    assert.deepEqual(grantsOf({ sluice: { publish: ['live/*'], play: 'live/a' } }, 'sluice', 'play'), ['live/a']);
    assert.deepEqual(grantsOf({ sluice: { publish: ['live/*', 7] } }, 'sluice', 'publish'), ['live/*']);
    assert.deepEqual(grantsOf({ sluice: { publish: ['live/*'] } }, 'sluice', 'play'), []);
    assert.equal(grantsOf({ other: {} }, 'sluice', 'play'), null);
    assert.equal(grantsOf({ sluice: ['live/*'] }, 'sluice', 'play'), null);
    assert.ok(granted(['vod/*', 'live/cam1'], 'live', 'cam1'));
    assert.ok(!granted([], 'live', 'cam1'));
  });

  test('HLS playlists under the vhost are told apart from their segments', () => {
    const pl = '#EXTM3U\n#EXTINF:2,\nlivestream-1.ts\n#EXTINF:2,\n/live/livestream-2.ts?x=1\n#EXTINF:2,\nhttp://cdn.example/live/livestream-3.ts\nnot-media.m3u8\n';
    assert.deepEqual(segmentPaths(pl, '/live/livestream.m3u8', '.ts'), ['/live/livestream-1.ts', '/live/livestream-2.ts', '/live/livestream-3.ts']);
  });

  test('LL-HLS media URIs: init section, segments, parts and the preload hint carry the session; rendition reports and keys do not', () => {
    const pl = [
      '#EXTM3U',
      '#EXT-X-MAP:URI="s-init.mp4"',
      '#EXT-X-KEY:METHOD=AES-128,URI="k.key"',
      '#EXT-X-PART:DURATION=0.5,URI="s-1.0.m4s",INDEPENDENT=YES',
      '#EXTINF:1.0,',
      's-1.m4s',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="s-2.0.m4s"',
      '#EXT-X-RENDITION-REPORT:URI="other.m3u8",LAST-MSN=1',
      '',
    ].join('\n');
    const out = addQueryToMediaUris(pl, 'hls_ctx', 'abc');
    assert.match(out, /#EXT-X-MAP:URI="s-init\.mp4\?hls_ctx=abc"/);
    assert.match(out, /URI="s-1\.0\.m4s\?hls_ctx=abc",INDEPENDENT=YES/);
    assert.match(out, /^s-1\.m4s\?hls_ctx=abc$/m);
    assert.match(out, /URI="s-2\.0\.m4s\?hls_ctx=abc"/);
    assert.match(out, /URI="k\.key"/);
    assert.match(out, /URI="other\.m3u8"/);
    assert.deepEqual(mediaPaths(pl, '/live/s.m3u8'), ['/live/s-init.mp4', '/live/s-1.0.m4s', '/live/s-1.m4s', '/live/s-2.0.m4s']);
  });
});

describe('HS256 policy', () => {
  let ctx: ServerContext;
  let p: JwtPolicy;
  before(() => {
    ctx = contextWith(`enabled on; secret ${SECRET}; leeway 30;`);
    p = new JwtPolicy(ctx);
  });
  after(() => p.stop());

  const grant = { sluice: { publish: ['live/cam*'], play: ['live/*'] } };

  test('a vhost without jwt is admitted synchronously, with no token', () => {
    assert.equal(p.onPublish(session({ vhost: 'open.example' })), undefined);
    assert.equal(p.guardsEveryPlay('open.example'), false);
    assert.equal(p.guardsEveryPlay('__defaultVhost__'), true);
  });

  test('no token → 401, valid → admitted, wrong stream or action → 403', async () => {
    assert.deepEqual(await verdict(p, 'onPublish', session()), { status: 401, code: 2015, message: 'jwt: no token for publish' });
    const t = await hs256(grant, { exp: now() + 60 });
    assert.equal(await verdict(p, 'onPublish', session({ param: `?token=${t}` })), 'ok');
    assert.equal(await verdict(p, 'onPlay', session({ stream: 'other', param: `?token=${t}` })), 'ok');
    const wrong = await verdict(p, 'onPublish', session({ stream: 'other', param: `?token=${t}` }));
    assert.ok(wrong !== 'ok' && wrong.status === 403 && wrong.code === 2015, JSON.stringify(wrong));
    assert.match((wrong as { message: string }).message, /does not grant publish of live\/other/);
    assert.ok(!(wrong as { message: string }).message.includes(t), 'the token is never in the message');
    const playOnly = await hs256({ sluice: { play: ['*'] } });
    assert.equal((await verdict(p, 'onPublish', session({ bearer: playOnly })) as { status: number }).status, 403);
    assert.equal((await verdict(p, 'onPlay', session({ bearer: await hs256({ other: 1 }) })) as { status: number }).status, 403);
  });

  test('HLS sessions name the playlist: its .m3u8 is not part of the stream', async () => {
    const t = await hs256({ sluice: { play: ['live/cam1'] } });
    assert.equal(await verdict(p, 'onPlay', session({ type: 'hls-play', stream: 'cam1.m3u8', param: `?token=${t}` })), 'ok');
  });

  test('exp and nbf with the leeway', async () => {
    assert.equal(await verdict(p, 'onPlay', session({ bearer: await hs256(grant, { exp: now() - 10 }) })), 'ok', 'expired 10 s ago, within 30 s leeway');
    const late = await verdict(p, 'onPlay', session({ bearer: await hs256(grant, { exp: now() - 60 }) }));
    assert.ok(late !== 'ok' && late.status === 401 && /ERR_JWT_EXPIRED/.test(late.message), JSON.stringify(late));
    assert.equal(await verdict(p, 'onPlay', session({ bearer: await hs256(grant, { nbf: now() + 10 }) })), 'ok', 'not before 10 s from now, within leeway');
    const early = await verdict(p, 'onPlay', session({ bearer: await hs256(grant, { nbf: now() + 120 }) }));
    assert.ok(early !== 'ok' && early.status === 401 && /nbf/.test(early.message), JSON.stringify(early));
  });

  test('alg none, a tampered payload, another secret, garbage: 401', async () => {
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(grant))}.`;
    for (const bad of [
      none,
      `${none}c2ln`,
      await hs256(grant, { secret: 'another-secret-of-at-least-32-characters!' }),
      'garbage',
      'a.b.c',
      'x'.repeat(9000),
    ]) {
      const v = await verdict(p, 'onPlay', session({ bearer: bad }));
      assert.ok(v !== 'ok' && v.status === 401, `${bad.slice(0, 30)}: ${JSON.stringify(v)}`);
    }
    const good = await hs256({ sluice: { play: ['live/cam1'] } });
    const [h, , sig] = good.split('.');
    const tampered = `${h}.${base64url.encode(JSON.stringify({ sluice: { play: ['*'] } }))}.${sig}`;
    const v = await verdict(p, 'onPlay', session({ stream: 'secret', bearer: tampered }));
    assert.ok(v !== 'ok' && v.status === 401 && /signature/.test(v.message), JSON.stringify(v));
  });

  test('issuer and audience, when configured', async () => {
    const c = contextWith(`enabled on; secret ${SECRET}; issuer https://issuer.example; audience sluice;`);
    const q = new JwtPolicy(c);
    try {
      const ok = await new SignJWT(grant).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('sluice').sign(new TextEncoder().encode(SECRET));
      assert.equal(await verdict(q, 'onPlay', session({ bearer: ok })), 'ok');
      const v = await verdict(q, 'onPlay', session({ bearer: await hs256(grant) }));
      assert.ok(v !== 'ok' && v.status === 401, JSON.stringify(v));
    } finally {
      q.stop();
    }
  });
});

describe('expire_sessions', () => {
  test('a session admitted with exp is closed when exp + leeway passes, not before; one that ended is forgotten', async () => {
    const ctx = contextWith(`enabled on; secret ${SECRET}; leeway 5; expire_sessions on;`);
    let clock = Date.now();
    const p = new JwtPolicy(ctx, () => clock);
    try {
      const exp = now() + 100;
      const t = await hs256({ sluice: { play: ['*'] } }, { exp });
      const a = session({ id: 'a', bearer: t });
      const b = session({ id: 'b', bearer: t });
      ctx.clients.add(a);
      ctx.clients.add(b);
      await p.onPlay(a);
      await p.onPlay(b);
      p.onStop(b);
      clock = (exp + 4) * 1000;
      p.sweep();
      assert.equal(a.closedWith, null);
      clock = (exp + 5) * 1000;
      p.sweep();
      assert.equal(a.closedWith, 'jwt token expired');
      assert.equal(b.closedWith, null, 'a stopped session is not closed again');
    } finally {
      p.stop();
    }
  });
});

describe('JWKS (RS256, ES256)', () => {
  let server: http.Server;
  let url = '';
  const keys: JWK[] = [];
  let fetches = 0;
  let down = false;
  const priv = new Map<string, { key: CryptoKey; alg: string }>();

  async function addKey(kid: string, alg: 'RS256' | 'ES256'): Promise<void> {
    const pair = await generateKeyPair(alg);
    priv.set(kid, { key: pair.privateKey, alg });
    keys.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' });
  }

  function sign(kid: string, claims: Record<string, unknown>): Promise<string> {
    const k = priv.get(kid)!;
    return new SignJWT(claims).setProtectedHeader({ alg: k.alg, kid }).setExpirationTime('1h').sign(k.key);
  }

  before(async () => {
    await addKey('rsa-1', 'RS256');
    await addKey('ec-1', 'ES256');
    server = http.createServer((_req, res) => {
      fetches++;
      if (down) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  after(() => server.close());

  test('keys by kid; a new kid triggers one refresh; the server down keeps cached keys, refuses new kids and says why', async () => {
    const ctx = contextWith(`enabled on; jwks_url ${url};`);
    let clock = Date.now();
    const p = new JwtPolicy(ctx, () => clock);
    try {
      const grant = { sluice: { publish: ['live/*'], play: ['live/*'] } };
      assert.equal(await verdict(p, 'onPublish', session({ bearer: await sign('rsa-1', grant) })), 'ok');
      assert.equal(await verdict(p, 'onPlay', session({ bearer: await sign('ec-1', grant) })), 'ok');
      assert.equal(fetches, 1, 'one fetch serves both keys');
      // HS256 is not accepted when only a JWKS is configured (no algorithm swap).
      const hs = await verdict(p, 'onPlay', session({ bearer: await hs256(grant) }));
      assert.ok(hs !== 'ok' && hs.status === 401 && /ERR_JOSE_ALG_NOT_ALLOWED/.test(hs.message), JSON.stringify(hs));

      await addKey('rsa-2', 'RS256');
      clock += 11_000; // past the cooldown of unknown-kid fetches
      assert.equal(await verdict(p, 'onPlay', session({ bearer: await sign('rsa-2', grant) })), 'ok', 'rotated-in key found by refresh');
      assert.equal(fetches, 2);

      down = true;
      await addKey('rsa-3', 'RS256');
      assert.equal(await verdict(p, 'onPlay', session({ bearer: await sign('rsa-1', grant) })), 'ok', 'cached key while the server is down');
      const v = await verdict(p, 'onPlay', session({ bearer: await sign('rsa-3', grant) }));
      assert.ok(v !== 'ok' && v.status === 401, JSON.stringify(v));
      // The first unknown kid after the last fetch waits out the 10 s cooldown: no hammering of the key server.
      assert.match((v as { message: string }).message, /key id rsa-3 is not in the JWKS/);
      assert.equal(fetches, 2, 'no fetch within the cooldown');
      clock += 11_000;
      const w = await verdict(p, 'onPlay', session({ bearer: await sign('rsa-3', grant) }));
      assert.ok(w !== 'ok' && w.status === 401, JSON.stringify(w));
      assert.match((w as { message: string }).message, /key id rsa-3 is not in the cached JWKS and .* cannot be fetched: HTTP 503/);
      assert.equal(fetches, 3);
      assert.equal(await verdict(p, 'onPlay', session({ bearer: await sign('ec-1', grant) })), 'ok', 'cached keys still work after the failed fetch');
    } finally {
      p.stop();
      down = false;
    }
  });

  test('a fetch that fails is logged and reported in the refusal', async () => {
    let t = 0;
    const set = new JwksKeySet({ url, log: silentLogger(), cooldownMs: 1000, now: () => t });
    const header = { alg: 'RS256', kid: 'rsa-1' };
    const token = { payload: '', signature: '', protected: '' };
    await set.key(header, token);
    assert.equal(set.size, keys.length);
    down = true;
    try {
      t = 5000;
      await assert.rejects(set.key({ alg: 'RS256', kid: 'nope' }, token), (e: unknown) => e instanceof KeyUnavailable && /cannot be fetched: HTTP 503/.test(e.message));
      t = 5500;
      await set.key(header, token);
      assert.equal(set.size, keys.length, 'the cached keys stay');
    } finally {
      down = false;
    }
    t = 7000;
    await addKey('rsa-4', 'RS256');
    await set.key({ alg: 'RS256', kid: 'rsa-4' }, token);
  });

  test('no JWKS reachable at first use: refused, with the reason', async () => {
    const set = new JwksKeySet({ url: 'http://127.0.0.1:1/none.json', log: silentLogger(), timeoutMs: 2000 });
    await assert.rejects(set.key({ alg: 'RS256', kid: 'x' }, { payload: '', signature: '', protected: '' }), (e: unknown) => e instanceof KeyUnavailable && /unavailable/.test(e.message));
  });
});
