/**
 * Offers are bounded (issue 11 item 5), against the real server: WebRTC
 * sessions count in max_connections from offer until they close (over it,
 * 503 with SRS's 1074), one address may send 20 offers at once and then 10 a
 * second (429 with Retry-After), and sessions that never connect expire and
 * give their slots back (/api/v1/clients empty, conn_srs back to the one
 * request asking).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { recvOnlyOfferFromChild } from '../helpers/offer-from-child.js';
import { waitFor } from '../helpers/wait.js';

const MAX = 10;
let server: RunningServer;
let offer = '';

before(async () => {
  server = await startServer({
    config: `listen {{RTMP}};
max_connections ${MAX};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
rtc_server { enabled on; listen {{RTC}}; candidate 127.0.0.1; }
vhost __defaultVhost__ { rtc { enabled on; rtc_to_rtmp off; rtmp_to_rtc off; } }`,
  });
  // One real offer, sent again and again: each answer has its own ICE ufrag, so each is a session of its own; none ever connects.
  offer = await recvOnlyOfferFromChild();
});

after(async () => {
  await server?.stop();
});

type OfferResult = { status: number; code: number | null; retryAfter: string | null };

/** One offer on a connection of its own (the WebRTC API answers with Connection: close, as SRS does); null when the server refused the connection at accept. */
function offerOnce(): Promise<OfferResult | null> {
  return new Promise((resolve, reject) => {
    const req = http.request(server.apiUrl('rtc/v1/whep/?app=live&stream=limits'), { method: 'POST', agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const code = status === 201 ? null : (JSON.parse(text) as { code: number }).code;
        const retry = res.headers['retry-after'];
        resolve({ status, code, retryAfter: typeof retry === 'string' ? retry : null });
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(null) : reject(e)));
    req.end(offer);
  });
}

/**
 * An offer's answer. The previous offer's socket still counts in max_connections until the
 * server has seen it close, so at the limit a new connection may be refused at accept (the
 * server is full: that is max_connections working) instead of reaching the WHEP handler: the
 * offer is sent again then, once per refusal, until the handler answers.
 */
async function whep(): Promise<OfferResult> {
  for (let refusals = 0; refusals < 200; refusals++) {
    const r = await offerOnce();
    if (r) return r;
  }
  throw new Error('200 connections in a row refused at accept: the server never saw the previous one close');
}

/** A GET on a connection of its own that closes after it (no keep-alive socket left counting in max_connections). */
function apiGet<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    http
      .get(server.apiUrl(path), { agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(JSON.parse(text) as T));
      })
      .on('error', reject);
  });
}

async function clients(): Promise<number> {
  return (await apiGet<{ clients: unknown[] }>('api/v1/clients/')).clients.length;
}

async function connSrs(): Promise<number> {
  return (await apiGet<{ data: { system: { conn_srs: number } } }>('api/v1/summaries')).data.system.conn_srs;
}

test('offers over max_connections get 503/1074, a flood from one address gets 429, expired sessions give everything back', { timeout: 60_000 }, async () => {
  // Sequential offers: each also holds its own HTTP connection while it is answered, so at most MAX - 1 sessions fit.
  const answered: number[] = [];
  let refused: OfferResult | null = null;
  for (let i = 0; i < MAX + 5 && !refused; i++) {
    const r = await whep();
    if (r.status === 201) answered.push(i);
    else refused = r;
  }
  assert.ok(refused, 'an offer over max_connections is refused');
  assert.equal(refused.status, 503);
  assert.equal(refused.code, 1074);
  assert.ok(answered.length >= MAX - 3 && answered.length <= MAX - 1, `${answered.length} sessions answered before the limit`);
  const refusal = await server.waitForLog((l) => l.msg === 'session refused: max_connections reached');
  assert.equal(refusal['ip'], '127.0.0.1');

  // The rest of the burst of 20 goes on 503s; then the address must wait.
  let limited: OfferResult | null = null;
  for (let i = 0; i < 40 && !limited; i++) {
    const r = await whep();
    if (r.status === 429) limited = r;
    else assert.equal(r.status, 503);
  }
  assert.ok(limited, 'more than 20 offers at once from one address get 429');
  assert.equal(limited.code, 429);
  assert.ok(Number(limited.retryAfter) >= 1, `Retry-After: ${limited.retryAfter}`);

  // The last offer's socket may still count: the listing's own connection may be refused until
  // the server has seen that close (ask again).
  let listed = -1;
  assert.ok(await waitFor(async () => (listed = await clients().catch(() => -1)) !== -1, 10_000, 100), 'the API answers once the offers socket is gone');
  assert.equal(listed, answered.length, 'the answered sessions are clients until they expire');
  // None of them connects: each closes after the connect timeout (15 s) and frees its slot.
  // While the sessions hold MAX - 1 slots the API itself may find the server full (a refused fetch): try again.
  assert.ok(await waitFor(async () => (await clients().catch(() => -1)) === 0, 30_000, 500), 'sessions that never connect expire');
  // The previous request's socket may still be closing on the server's side: wait for it rather than race it.
  assert.ok(await waitFor(async () => (await connSrs()) === 1, 5000, 100), 'max_connections counts only the request asking');
  const closed = server.logs.filter((l) => l['reason'] === 'ICE/DTLS not connected in time');
  assert.ok(closed.length >= answered.length, `${closed.length} sessions closed for not connecting`);
  // And the server takes offers again.
  const again = await whep();
  assert.equal(again.status, 201);
});
