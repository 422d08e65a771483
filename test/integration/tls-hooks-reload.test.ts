/**
 * HTTP callbacks over HTTPS: a hook server whose certificate the server
 * cannot verify is refused (and so is the publish it was asked about) unless
 * the CA is trusted (`NODE_EXTRA_CA_CERTS`) or `http_hooks.tls_verify off`.
 * And SIGHUP re-reads the key/cert files of the TLS listeners (with file
 * watching off): new handshakes get the new certificate.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, copyFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish } from '../helpers/ffmpeg.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';

let ca: TestCa;
let hookServer: https.Server;
let hookCalls = 0;

before(async () => {
  ca = makeTestCa();
  const hookCert = ca.issue('hook', ['hooks.test']);
  hookServer = https.createServer({ key: readFileSync(hookCert.key), cert: readFileSync(hookCert.cert) }, (req, res) => {
    req.resume();
    req.on('end', () => {
      hookCalls++;
      res.end('0');
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
});

after(async () => {
  await new Promise<void>((r) => hookServer.close(() => r()));
  ca?.remove();
});

function hookConfig(verify: string): string {
  const port = (hookServer.address() as AddressInfo).port;
  return `
listen {{RTMP}};
srs_log_tank console;
vhost __defaultVhost__ {
  http_hooks { enabled on; on_publish https://127.0.0.1:${port}/hook; ${verify} }
}
`;
}

/** Publishes for a few seconds; resolves with the log line that decided it. */
async function publishOutcome(server: RunningServer): Promise<string> {
  const p = publish(server.rtmpUrl('live/h'), { seconds: 5 });
  try {
    const l = await server.waitForLog((x) => x.msg === 'publish started' || x.msg === 'HTTP callback refused or failed', 20_000);
    return l.msg === 'publish started' ? 'published' : `refused: ${String(l['reason'])}`;
  } finally {
    await p.stop();
  }
}

test('a hook server with a certificate nobody trusts is refused, and so is the publish', async () => {
  const server = await startServer({ config: hookConfig('') });
  try {
    const calls = hookCalls;
    const outcome = await publishOutcome(server);
    assert.match(outcome, /^refused: .*certificate/i);
    assert.equal(hookCalls, calls, 'the hook server never got the request');
  } finally {
    await server.stop();
  }
});

test('trusted through NODE_EXTRA_CA_CERTS, the same hook server allows the publish', async () => {
  const server = await startServer({ config: hookConfig(''), extraEnv: { NODE_EXTRA_CA_CERTS: ca.caCert } });
  try {
    const calls = hookCalls;
    assert.equal(await publishOutcome(server), 'published');
    assert.ok(hookCalls > calls);
  } finally {
    await server.stop();
  }
});

test('tls_verify off accepts any certificate (what SRS does)', async () => {
  const server = await startServer({ config: hookConfig('tls_verify off;') });
  try {
    assert.equal(await publishOutcome(server), 'published');
  } finally {
    await server.stop();
  }
});

function serial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(ca.caCert) }, () => {
      const n = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(n);
    });
    s.on('error', reject);
  });
}

test('SIGHUP re-reads the certificate files of the TLS listeners', async () => {
  const first = ca.issue('reload', ['sluice.test']);
  const server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
tls { watch off; }
rtmps { enabled on; listen {{RTMPS}}; key ${first.key}; cert ${first.cert}; }
http_server { enabled on; listen {{HTTP}}; https { enabled on; listen {{HTTPS}}; key ${first.key}; cert ${first.cert}; } }
`,
  });
  try {
    const before = await serial(server.port('HTTPS'));
    const next = ca.issue('reload-next', ['sluice.test']);
    copyFileSync(next.key, first.key);
    copyFileSync(next.cert, first.cert);
    server.signal('SIGHUP');
    await server.waitForLog((l) => l.msg === 'config reloaded', 15_000);
    await server.waitForLog((l) => l.msg === 'TLS: new certificate in use' && l['why'] === 'reload' && l['listener'] === 'https', 10_000);
    await server.waitForLog((l) => l.msg === 'TLS: new certificate in use' && l['why'] === 'reload' && l['listener'] === 'rtmps', 10_000);
    const after = await serial(server.port('HTTPS'));
    assert.notEqual(after, before);
    assert.equal(await serial(server.port('RTMPS')), after);
  } finally {
    await server.stop();
  }
});
