/**
 * A browser's preflight from a public page to a server on a private network
 * (Private Network Access): the request carries
 * Access-Control-Request-Private-Network, and only the response header
 * Access-Control-Allow-Private-Network lets the page go on (issue 11 item 7).
 * Asked on the API, an HTTP live stream and the WHIP/WHEP endpoints.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';

let server: RunningServer;
before(async () => {
  server = await startServer();
});
after(async () => server?.stop());

const preflight = {
  Origin: 'https://player.example.com',
  'Access-Control-Request-Method': 'POST',
  'Access-Control-Request-Headers': 'content-type',
  'Access-Control-Request-Private-Network': 'true',
};

test('preflights on the API, a live stream and WHIP/WHEP allow the private network', async () => {
  const urls = [
    server.apiUrl('api/v1/versions'),
    server.apiUrl('rtc/v1/whip/?app=live&stream=cors'),
    server.apiUrl('rtc/v1/whep/?app=live&stream=cors'),
    server.httpUrl('live/cors.flv'),
  ];
  for (const url of urls) {
    const r = await fetch(url, { method: 'OPTIONS', headers: preflight });
    await r.arrayBuffer();
    assert.ok(r.status >= 200 && r.status < 300, `${url}: ${r.status}`);
    assert.equal(r.headers.get('access-control-allow-private-network'), 'true', url);
    assert.equal(r.headers.get('access-control-allow-origin'), '*', url);
    assert.equal(r.headers.get('access-control-request-private-network'), null, `${url}: a request header in a response`);
  }
});

test('without an Origin no CORS header is sent (SRS sends them only to browsers)', async () => {
  const r = await fetch(server.apiUrl('api/v1/versions'));
  assert.equal(r.status, 200);
  await r.json();
  assert.equal(r.headers.get('access-control-allow-private-network'), null);
});
