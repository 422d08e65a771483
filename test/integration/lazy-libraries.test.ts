/**
 * A server loads the large libraries of a part only when its config turns the
 * part on: acme-client (~8 MB of heap with its X.509 stack) for `tls.acme`,
 * prom-client for `exporter`. Both are CommonJS, so a loaded one is in
 * require's cache, which is what this checks. One process, in this order: the
 * plain server first, then one with the exporter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startInProcess } from '../helpers/inprocess-server.js';

const loaded = (pkg: string): boolean => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes(`/node_modules/${pkg}/`));

const PLAIN = `listen {{RTMP}};
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; }
vhost __defaultVhost__ { http_remux { enabled on; mount [vhost]/[app]/[stream].flv; } }`;

test('without tls.acme and exporter, neither acme-client nor prom-client is loaded', async () => {
  const { server, port } = await startInProcess(PLAIN);
  try {
    // The server is up and answers: the check below is about a running server.
    const r = await fetch(`http://127.0.0.1:${port('API')}/api/v1/versions`);
    assert.equal(r.status, 200);
    assert.equal(loaded('acme-client'), false, 'acme-client loaded without tls.acme');
    assert.equal(loaded('prom-client'), false, 'prom-client loaded without an exporter');
  } finally {
    await server.stop();
  }
});

test('with the exporter on, prom-client is loaded and /metrics answers', async () => {
  const { server, port } = await startInProcess(`${PLAIN}\nexporter { enabled on; listen {{EXPORTER}}; }`);
  try {
    const text = await (await fetch(`http://127.0.0.1:${port('EXPORTER')}/metrics`)).text();
    // The figures the composition root adds (exporter-wiring.ts) are on the registry too.
    for (const name of ['sluice_processes', 'sluice_forwards']) assert.match(text, new RegExp(`^# TYPE ${name} gauge$`, 'm'));
    assert.equal(loaded('prom-client'), true);
    assert.equal(loaded('acme-client'), false);
  } finally {
    await server.stop();
  }
});
