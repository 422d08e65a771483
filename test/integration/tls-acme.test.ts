/**
 * ACME against Debian's pebble (a real ACME server), started by the test with
 * its own config and a test CA for its HTTPS directory. The server starts
 * before pebble does: the first request fails and is retried (the log says
 * why); once pebble is up a certificate is issued (HTTP-01 answered on the
 * HTTP port), served on the HTTPS port, and renewed (`renew_before` longer
 * than pebble's validity: renewed after the 30 s floor) while a player that
 * connected with the first certificate keeps decoding.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, decodeFrames, type Proc } from '../helpers/ffmpeg.js';
import { makeTestCa } from '../helpers/test-ca.js';
import { freePort } from '../helpers/ports.js';

const ca = makeTestCa();
let pebble: ChildProcess | null = null;
let server: RunningServer | null = null;
let pub: Proc | null = null;

after(async () => {
  await pub?.stop();
  await server?.stop();
  if (pebble && pebble.exitCode === null) {
    const exited = new Promise((r) => pebble!.once('exit', r));
    pebble.kill('SIGTERM');
    await exited;
  }
  ca.remove();
});

function peerSerial(port: number): Promise<{ serial: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    // pebble's issuing CA is made at its start; the test checks what is served, not the chain.
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate();
      s.end();
      resolve({ serial: c.serialNumber, issuer: String(c.issuer?.CN ?? '') });
    });
    s.on('error', reject);
  });
}

test('ACME with pebble: retried while the CA is down, issued, served, renewed under a live player', { timeout: 150_000 }, async () => {
  const acmePort = await freePort();
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; https { enabled on; listen {{HTTPS}}; key ./none.key; cert ./none.crt; } }
tls { acme { enabled on; directory https://127.0.0.1:${acmePort}/dir; domains localhost; ca_file ${ca.caCert}; renew_before 100000; dir ./acme; } }
vhost __defaultVhost__ { http_remux { enabled on; mount [vhost]/[app]/[stream].flv; } play { gop_cache on; } }
`,
  });
  const failed = await server.waitForLog((l) => l.msg === 'ACME: certificate request failed; retrying', 20_000);
  assert.ok(String(failed['err']).length > 0, 'the log says why');
  assert.equal(failed['directory'], `https://127.0.0.1:${acmePort}/dir`);
  assert.equal(failed['retryInMs'], 5000);

  const own = ca.issue('pebble', ['localhost']);
  const cfg = join(ca.dir, 'pebble.json');
  const mgmt = await freePort();
  writeFileSync(cfg, JSON.stringify({ pebble: { listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmt}`, certificate: own.cert, privateKey: own.key, httpPort: server.httpPort, tlsPort: await freePort(), ocspResponderURL: '', externalAccountBindingRequired: false } }));
  pebble = spawn('pebble', ['-config', cfg], { env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' }, stdio: 'ignore' });

  const issued = await server.waitForLog((l) => l.msg === 'ACME: certificate issued', 60_000);
  assert.deepEqual(issued['domains'], ['localhost']);
  const httpsPort = server.port('HTTPS');
  const first = await peerSerial(httpsPort);
  assert.match(first.issuer, /Pebble/i);

  pub = publish(server.rtmpUrl('live/a'), { seconds: 90, gop: 25 });
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
  const player = Object.assign(decodeFrames(`https://127.0.0.1:${httpsPort}/live/a.flv`, 45), { done: false });
  void player.then(() => (player.done = true));
  await server.waitForLog((l) => l.msg === 'HTTP-FLV play started', 20_000);
  const issues = (): number => server!.logs.filter((l) => l.msg === 'ACME: certificate issued').length;
  const deadline = Date.now() + 70_000;
  while (issues() < 2 && Date.now() < deadline) await server.waitForLog((l) => l.msg === 'ACME: certificate issued' && issues() >= 2, 70_000).catch(() => undefined);
  assert.ok(issues() >= 2, `the certificate was renewed: ${JSON.stringify(server.logs.filter((l) => /ACME/.test(l.msg)))}`);
  assert.equal(player.done, false, 'the player was still playing when the certificate was renewed');
  const second = await peerSerial(httpsPort);
  assert.notEqual(second.serial, first.serial, 'a new handshake gets the renewed certificate');
  const r = await player;
  assert.equal(r.code, 0, r.stderr.slice(-400));
  assert.ok(r.frames >= 45 * 25 * 0.8, `the player connected before the renewal decoded ${r.frames} frames in 45 s`);
});
