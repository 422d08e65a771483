/**
 * WHIP/WHEP and /rtc/v1 bodies over the limit (64 KiB SDP) get a 413 answer,
 * not a reset, and the refusal is logged with the client's address
 * (issue 11 item 6).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, type RunningServer } from '../helpers/server-process.js';

let server: RunningServer;

before(async () => {
  server = await startServer({
    config: `listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
rtc_server { enabled on; listen {{RTC}}; candidate 127.0.0.1; }
vhost __defaultVhost__ { rtc { enabled on; rtc_to_rtmp off; rtmp_to_rtc off; } }`,
  });
});

after(async () => {
  await server?.stop();
});

/** POSTs `body` and resolves with the status and answer, or rejects on a reset. */
function post(path: string, body: Buffer, type: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(server.apiUrl(path), { method: 'POST', headers: { 'Content-Type': type, 'Content-Length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a WHIP offer over 64 KiB gets 413 and the refusal names the client IP', async () => {
  const r = await post('rtc/v1/whip/?app=live&stream=big', Buffer.alloc(100 * 1024, 'v'), 'application/sdp');
  assert.equal(r.status, 413);
  assert.equal((JSON.parse(r.text) as { code: number }).code, 413);
  const line = await server.waitForLog((l) => l.msg === 'WHIP/WHEP publish refused');
  assert.equal(line['ip'], '127.0.0.1');
  assert.equal(line['code'], 413);
});

test('a WHEP offer of 600 KiB (read and dropped) gets 413 too', async () => {
  const r = await post('rtc/v1/whep/?app=live&stream=big', Buffer.alloc(600 * 1024, 'v'), 'application/sdp');
  assert.equal(r.status, 413);
});

test('/rtc/v1/play/ with a JSON body over the limit gets 413', async () => {
  const body = Buffer.from(JSON.stringify({ streamurl: 'webrtc://127.0.0.1/live/big', sdp: 'v'.repeat(100 * 1024) }));
  const r = await post('rtc/v1/play/', body, 'application/json');
  assert.equal(r.status, 413);
  const line = await server.waitForLog((l) => l.msg === 'WebRTC API request failed' && l['code'] === 413);
  assert.equal(line['ip'], '127.0.0.1');
});

test('a small bad offer is still answered as before (400), the API goes on', async () => {
  const r = await post('rtc/v1/whip/?app=live&stream=small', Buffer.from('not sdp'), 'application/sdp');
  assert.equal(r.status, 400);
  const v = await fetch(server.apiUrl('api/v1/versions'));
  assert.equal(v.status, 200);
});

test('request headers over 16 KiB get 431 on the API port', async () => {
  const r = await fetch(server.apiUrl('api/v1/versions'), { headers: { 'X-Big': 'h'.repeat(20 * 1024) } });
  assert.equal(r.status, 431);
});
