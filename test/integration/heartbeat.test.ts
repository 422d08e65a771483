/**
 * `heartbeat`: the server posts SRS's body to a receiver (here a small HTTP
 * server of the test) every `interval` seconds, to the URL's path only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait.js';

interface Beat {
  method: string;
  url: string;
  at: number;
  body: Record<string, unknown>;
}

test('heartbeats carry SRS\'s fields, the listen ports, and come every interval', async () => {
  const beats: Beat[] = [];
  const receiver = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      beats.push({ method: req.method ?? '', url: req.url ?? '', at: Date.now(), body: JSON.parse(text) as Record<string, unknown> });
      res.end('{"code":0}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  const server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
server_id hb-test;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
heartbeat { enabled on; interval 1; url http://127.0.0.1:${port}/api/v1/srs/register?drop=me; device_id origin1; ports on; summaries off; }
vhost __defaultVhost__ { }
`,
    extraEnv: { SRS_DEVICE_IP: '10.1.2.3' },
  });
  try {
    const startedAt = Date.now();
    assert.ok(await waitFor(() => beats.length >= 3, 15_000), `${beats.length} heartbeats`);
    const elapsed = (Date.now() - startedAt) / 1000;
    // Roughly one a second: never a burst, never silence.
    assert.ok(beats.length <= elapsed + 2, `${beats.length} heartbeats in ${elapsed.toFixed(1)} s`);
    const b = beats[0]!;
    assert.equal(b.method, 'POST');
    assert.equal(b.url, '/api/v1/srs/register');
    assert.equal(b.body.device_id, 'origin1');
    assert.equal(b.body.ip, '10.1.2.3');
    assert.equal(b.body.server, 'hb-test');
    assert.equal(typeof b.body.service, 'string');
    assert.equal(b.body.pid, server.proc.pid);
    assert.deepEqual(b.body.rtmp, [String(server.rtmpPort)]);
    assert.deepEqual(b.body.http, [String(server.httpPort)]);
    assert.deepEqual(b.body.api, [String(server.apiPort)]);
    assert.equal(b.body.summaries, undefined);
    assert.equal(new Set(beats.map((x) => x.body.service)).size, 1);
  } finally {
    await server.stop();
    receiver.close();
  }
});
