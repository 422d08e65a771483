/**
 * HTTP callbacks against a callback server in the test: it allows one stream
 * and denies another; every body is checked field by field; a slow callback
 * holds only its own session.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, run, sleep } from '../helpers/ffmpeg.js';

interface HookCall {
  path: string;
  at: number;
  body: Record<string, unknown>;
}

let server: RunningServer;
let hookServer: http.Server;
const calls: HookCall[] = [];

const of = (action: string, stream?: string): HookCall[] =>
  calls.filter((c) => c.body.action === action && (stream === undefined || c.body.stream === stream || c.body.stream_url === `/live/${stream}`));

async function waitFor<T>(pred: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; calls: ${calls.map((c) => `${c.body.action}:${c.body.stream ?? ''}`).join(' ')}`);
    await sleep(100);
  }
}

before(async () => {
  hookServer = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      calls.push({ path: req.url ?? '', at: Date.now(), body });
      const stream = String(body.stream ?? '');
      const param = String(body.param ?? '');
      if (body.action === 'on_publish' && stream === 'slow') {
        setTimeout(() => res.end('0'), 5000);
        return;
      }
      if (body.action === 'on_publish' && stream === 'denied') return void res.end('{"code":403,"msg":"no"}');
      if (body.action === 'on_play' && param.includes('deny')) {
        res.writeHead(500);
        return void res.end('0');
      }
      res.end(req.url === '/hooks2' ? '{"code":0,"data":null}' : '0');
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  const hooks = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}`;
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  http_hooks {
    enabled on;
    on_connect ${hooks}/hooks;
    on_close ${hooks}/hooks;
    on_publish ${hooks}/hooks ${hooks}/hooks2;
    on_unpublish ${hooks}/hooks;
    on_play ${hooks}/hooks;
    on_stop ${hooks}/hooks;
  }
}
`,
  });
});

after(async () => {
  await server?.stop();
  hookServer?.closeAllConnections();
  await new Promise<void>((r) => hookServer.close(() => r()));
});

test('allowed stream: on_connect, on_publish (both URLs), on_play/on_stop, on_unpublish, on_close with SRS bodies', async () => {
  const pub = publish(server.rtmpUrl('live/allowed?token=abc'), { seconds: 8 });
  await server.waitForLog((l) => l.msg === 'publish started', 15_000);
  const apiClients = (await (await fetch(server.apiUrl('api/v1/clients/'))).json()) as { clients: { id: string; type: string; stream: string }[] };
  const publisher = apiClients.clients.find((c) => c.type === 'fmle-publish')!;
  const r = await probe(server.httpUrl('live/allowed.flv?k=v'), 2);
  assert.ok(r.streams.some((s) => s.codec_type === 'video'), 'the allowed stream plays');
  assert.equal(await pub.done, 0, pub.stderr());
  await waitFor(() => of('on_close').length > 0 && of('on_unpublish').length > 0 && of('on_stop').length > 0, 10_000, 'stop hooks');

  const common = (b: Record<string, unknown>, app = 'live'): void => {
    assert.match(String(b.server_id), /^vid-[0-9a-z]{7}$/);
    assert.match(String(b.service_id), /^[0-9a-z]{8}$/);
    assert.match(String(b.client_id), /^[0-9a-z]{8}$/);
    assert.match(String(b.ip), /127\.0\.0\.1/);
    assert.equal(b.vhost, '__defaultVhost__');
    assert.equal(b.app, app);
  };
  // ffmpeg sends the query inside its tcUrl here, so the app at connect is whatever that tcUrl says.
  const connect = of('on_connect')[0]!.body;
  common(connect, String(connect.app));
  assert.deepEqual(Object.keys(connect), ['server_id', 'service_id', 'action', 'client_id', 'ip', 'vhost', 'app', 'stream', 'param', 'tcUrl', 'pageUrl']);
  assert.match(String(connect.tcUrl), /^rtmp:\/\/127\.0\.0\.1:\d+\/live/);

  const onPublish = of('on_publish', 'allowed');
  assert.deepEqual(onPublish.map((c) => c.path), ['/hooks', '/hooks2'], 'every URL, in order');
  const pb = onPublish[0]!.body;
  common(pb);
  assert.deepEqual(Object.keys(pb), ['server_id', 'service_id', 'action', 'client_id', 'ip', 'vhost', 'app', 'tcUrl', 'stream', 'param', 'stream_url', 'stream_id']);
  assert.equal(pb.stream, 'allowed');
  assert.equal(pb.param, '?token=abc');
  assert.equal(pb.stream_url, '/live/allowed');
  assert.match(String(pb.stream_id), /^vid-[0-9a-z]{7}$/);
  assert.equal(pb.client_id, publisher.id, 'hook client_id is the API client id');
  assert.equal(pb.stream_id, publisher.stream, 'hook stream_id is the API stream id');
  assert.equal(pb.server_id, connect.server_id);

  const play = of('on_play', 'allowed')[0]!.body;
  common(play);
  assert.deepEqual(Object.keys(play), ['server_id', 'service_id', 'action', 'client_id', 'ip', 'vhost', 'app', 'stream', 'tcUrl', 'param', 'pageUrl', 'stream_url', 'stream_id']);
  assert.equal(play.tcUrl, 'rtmp://__defaultVhost__/live', 'HTTP players get the synthesized tcUrl');
  assert.equal(play.param, '?k=v');
  const stop = of('on_stop', 'allowed')[0]!.body;
  assert.equal(stop.client_id, play.client_id);

  const unpub = of('on_unpublish', 'allowed')[0]!.body;
  assert.equal(unpub.client_id, publisher.id);
  assert.equal(unpub.stream_url, '/live/allowed');
  const close = of('on_close').find((c) => c.body.client_id === publisher.id)!.body;
  assert.deepEqual(Object.keys(close), ['server_id', 'service_id', 'action', 'client_id', 'ip', 'vhost', 'app', 'send_bytes', 'recv_bytes']);
  assert.ok(Number(close.recv_bytes) > 50_000, `recv_bytes ${close.recv_bytes}`);
  assert.ok(Number.isInteger(close.send_bytes));
});

test('denied stream: on_publish answers code 403, ffmpeg is refused, no on_unpublish, a log line says why', async () => {
  const pub = publish(server.rtmpUrl('live/denied'), { seconds: 10 });
  const code = await Promise.race([pub.done, sleep(15_000).then(() => 'running')]);
  assert.notEqual(code, 'running');
  assert.notEqual(code, 0);
  assert.equal(of('on_publish', 'denied').length, 1, 'the chain stops at the first refusal');
  const line = await server.waitForLog((l) => l.msg === 'HTTP callback refused or failed' && l.hook === 'on_publish');
  assert.equal(line.code, 3064);
  await sleep(500);
  assert.equal(of('on_unpublish', 'denied').length, 0);
  const streams = (await (await fetch(server.apiUrl('api/v1/streams/'))).json()) as { streams: { name: string; publish: { active: boolean } }[] };
  assert.ok(!streams.streams.some((s) => s.name === 'denied' && s.publish.active));
});

test('denied play: HTTP 500 from on_play refuses HTTP-FLV (403) and RTMP players', async () => {
  const pub = publish(server.rtmpUrl('live/open'), { seconds: 12 });
  try {
    await waitFor(() => of('on_publish', 'open').length >= 2, 15_000, 'on_publish open');
    await sleep(1500);
    const res = await fetch(server.httpUrl('live/open.flv?deny=1'));
    assert.equal(res.status, 403);
    await res.body?.cancel();
    const rtmp = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', server.rtmpUrl('live/open?deny=1'), '-t', '2', '-f', 'null', '-'], 20_000);
    const code = await rtmp.done;
    assert.notEqual(code, 0, 'the RTMP player is refused');
    const ok = await probe(server.httpUrl('live/open.flv'), 1);
    assert.ok(ok.streams.length > 0, 'without deny it plays');
  } finally {
    await pub.stop();
  }
});

test('a pending callback blocks only its own session', async () => {
  const slow = publish(server.rtmpUrl('live/slow'), { seconds: 12 });
  try {
    await waitFor(() => of('on_publish', 'slow').length > 0, 10_000, 'slow on_publish sent');
    const slowAt = of('on_publish', 'slow')[0]!.at;
    const fast = publish(server.rtmpUrl('live/fast'), { seconds: 4 });
    await waitFor(() => of('on_publish', 'fast').length >= 2, 5000, 'fast on_publish');
    assert.ok(Date.now() - slowAt < 4500, 'the second publisher was admitted while the first callback was pending');
    const api = await fetch(server.apiUrl('api/v1/versions'));
    assert.equal(api.status, 200);
    await fast.stop();
    await waitFor(() => of('on_unpublish', 'slow').length === 0 && server.logs.some((l) => l.msg === 'publish started'), 8000, 'slow admitted later');
  } finally {
    await slow.stop();
  }
});
