import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { judgeHookResponse } from '../../src/ops/hooks/hook-response.js';
import { hookBody, hlsNotifyUrl } from '../../src/ops/hooks/hook-bodies.js';
import { hookRequest, HookRequestError } from '../../src/ops/hooks/hook-client.js';

describe('SRS accept rule', () => {
  test('allows 200/201 with body 0 or {"code":0}', () => {
    assert.equal(judgeHookResponse(200, '0').ok, true);
    assert.equal(judgeHookResponse(201, '{"code":0}').ok, true);
    assert.equal(judgeHookResponse(200, '{"code":0,"data":{"x":1}}').ok, true);
  });

  test('denies everything else with SRS codes', () => {
    const cases: [number, string, number][] = [
      [500, '0', 4005],
      [404, '{"code":0}', 4005],
      [200, '', 3008],
      [200, 'OK', 3008],
      [200, '1', 3008],
      [200, '0\n', 3008],
      [200, ' 0', 3008],
      [200, '[0]', 3008],
      [200, '{}', 3064],
      [200, '{"code":1}', 3064],
      [200, '{"code":"0"}', 3064],
      [200, '{"code":0.5}', 3064],
    ];
    for (const [status, body, code] of cases) {
      const v = judgeHookResponse(status, body);
      assert.equal(v.ok, false, `${status} ${JSON.stringify(body)}`);
      assert.equal(!v.ok && v.code, code, `${status} ${JSON.stringify(body)}`);
    }
  });

  test('fuzz: random bodies are judged without throwing', () => {
    for (let i = 0; i < 3000; i++) {
      const body = Array.from({ length: Math.floor(Math.random() * 20) }, () => '{}[]":,0123code '[Math.floor(Math.random() * 16)]).join('');
      const v = judgeHookResponse(200, body);
      assert.equal(typeof v.ok, 'boolean');
    }
  });
});

describe('bodies', () => {
  const id = { serverId: 'vid-abcdefg', serviceId: 'svc12345' };
  const subject = { clientId: 'c1234567', ip: '1.2.3.4', vhost: '__defaultVhost__', app: 'live', stream: 'cam', param: '?token=x', tcUrl: 'rtmp://h/live', pageUrl: 'http://p/', streamId: 'vid-sssssss' };

  test('field order and presence per action', () => {
    const common = ['server_id', 'service_id', 'action', 'client_id', 'ip', 'vhost', 'app'];
    assert.deepEqual(Object.keys(hookBody(id, 'on_connect', subject)), [...common, 'stream', 'param', 'tcUrl', 'pageUrl']);
    assert.deepEqual(Object.keys(hookBody(id, 'on_close', { ...subject, sendBytes: 5, recvBytes: 7 })), [...common, 'send_bytes', 'recv_bytes']);
    assert.deepEqual(Object.keys(hookBody(id, 'on_publish', subject)), [...common, 'tcUrl', 'stream', 'param', 'stream_url', 'stream_id']);
    assert.deepEqual(Object.keys(hookBody(id, 'on_play', subject)), [...common, 'stream', 'tcUrl', 'param', 'pageUrl', 'stream_url', 'stream_id']);
    assert.deepEqual(Object.keys(hookBody(id, 'on_stop', { ...subject, streamId: undefined })), [...common, 'tcUrl', 'stream', 'param', 'stream_url']);
    const hls = hookBody(id, 'on_hls', subject, { duration: 2.345, cwd: '/w', file: './h/live/cam-3.ts', url: 'live/cam-3.ts', m3u8: './h/live/cam.m3u8', m3u8Url: 'live/cam.m3u8', seqNo: 3 });
    assert.deepEqual(Object.keys(hls), [...common, 'tcUrl', 'stream', 'param', 'duration', 'cwd', 'file', 'url', 'm3u8', 'm3u8_url', 'seq_no', 'stream_url', 'stream_id']);
    const json = JSON.parse(JSON.stringify(hls)) as Record<string, unknown>;
    assert.equal(json.duration, 2.35);
    assert.equal(json.stream_url, '/live/cam');
    assert.equal(json.action, 'on_hls');
  });

  test('on_hls_notify URL variables', () => {
    const v = { serverId: 's', serviceId: 'v', app: 'live', stream: 'cam', tsUrl: 'cam-1.ts', param: '?a=1' };
    assert.equal(hlsNotifyUrl('http://cdn/[server_id]/[app]/[stream]/[ts_url][param]', v), 'http://cdn/s/live/cam/cam-1.ts?a=1');
    assert.equal(hlsNotifyUrl('http://cdn/[ts_url]', { ...v, tsUrl: 'http://x/y.ts' }), 'http://x/y.ts');
  });
});

describe('hook requests', () => {
  test('POSTs JSON, reads the answer, enforces the time limit', async () => {
    const seen: { method?: string; type?: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, type: req.headers['content-type'], body });
        if (req.url === '/slow') return; // never answers
        res.end(req.url === '/deny' ? '{"code":1}' : '0');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await hookRequest(`${base}/ok`, { body: '{"a":1}', timeoutMs: 2000 });
      assert.deepEqual(ok, { status: 200, body: '0' });
      assert.deepEqual(seen[0], { method: 'POST', type: 'application/json', body: '{"a":1}' });
      const deny = await hookRequest(`${base}/deny`, { body: '{}', timeoutMs: 2000 });
      assert.equal(judgeHookResponse(deny.status, deny.body).ok, false);
      const t0 = Date.now();
      await assert.rejects(hookRequest(`${base}/slow`, { body: '{}', timeoutMs: 300 }), HookRequestError);
      assert.ok(Date.now() - t0 < 2000, 'bounded by the timeout');
      await assert.rejects(hookRequest('ftp://x/', { timeoutMs: 100 }), HookRequestError);
      await assert.rejects(hookRequest('not a url', { timeoutMs: 100 }), HookRequestError);
      const get = await hookRequest(`${base}/ok`, { method: 'GET', timeoutMs: 2000, maxBodyBytes: 1 });
      assert.equal(get.body, '0');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
