/**
 * RTMPS and HTTPS with real clients and a test CA made with openssl: ffmpeg
 * publishes over RTMPS, ffprobe plays RTMPS, HTTPS-FLV and HLS over HTTPS;
 * the API answers on the HTTPS port it shares; SNI picks the certificate of
 * the name asked; a certificate replaced on disk is what new connections get
 * while a player already connected keeps decoding; garbage and a stalled
 * handshake end that one connection, with a bounded number of log lines.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, copyFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, decodeFrames, monotonicDts, type Proc } from '../helpers/ffmpeg.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

let ca: TestCa;
let server: RunningServer;
let publisher: Proc;
let main: { key: string; cert: string };

function config(): string {
  const other = ca.issue('other', ['other.test', '*.other.test']);
  return `
listen {{RTMP}};
srs_log_tank console;
rtmps { enabled on; listen {{RTMPS}}; key ${main.key}; cert ${main.cert}; }
tls { handshake_timeout 1000; sni other.test *.other.test { key ${other.key}; cert ${other.cert}; } }
http_api { enabled on; listen {{HTTP}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; https { enabled on; listen {{HTTPS}}; key ${main.key}; cert ${main.cert}; } }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  hls { enabled on; hls_fragment 1; hls_window 10; hls_path ./html; }
  play { gop_cache on; }
}
`;
}

/** One TLS handshake to the server: the certificate it presented (its chain verified against the test CA; the name is the test's to check). */
function peerCert(port: number, servername: string): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername, ca: readFileSync(ca.caCert), checkServerIdentity: () => undefined }, () => {
      const c = s.getPeerCertificate();
      s.end();
      resolve(c);
    });
    s.on('error', reject);
  });
}

/** GET over HTTPS, verified against the test CA. */
async function httpsGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: 'localhost', ca: readFileSync(ca.caCert) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const rtmpsUrl = (p: string): string => `rtmps://127.0.0.1:${server.port('RTMPS')}/${p}`;
const httpsUrl = (p: string): string => `https://127.0.0.1:${server.port('HTTPS')}/${p}`;

before(async () => {
  ca = makeTestCa();
  main = ca.issue('main', ['sluice.test']);
  server = await startServer({ config: config() });
  publisher = publish(rtmpsUrl('live/s'), { seconds: 60, size: '320x240', fps: 25, gop: 25 });
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
});

after(async () => {
  await publisher?.stop();
  await server?.stop();
  ca?.remove();
});

test('RTMPS: ffmpeg publishes, ffprobe plays H.264 320x240 + AAC with monotonic timestamps', async () => {
  const r = await probe(rtmpsUrl('live/s'), 3);
  const video = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 320);
  assert.equal(video?.height, 240);
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  assert.ok(r.packets.length > 50, `packets: ${r.packets.length}`);
  const mono = monotonicDts(r.packets);
  assert.ok(mono.ok, mono.detail);
});

test('HTTPS: HTTP-FLV and HLS probe as H.264 + AAC; the API answers on the HTTPS port', async () => {
  const flv = await probe(httpsUrl('live/s.flv'), 3);
  assert.equal(flv.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
  assert.equal(flv.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  assert.ok(monotonicDts(flv.packets).ok);
  assert.ok(await waitFor(async () => (await httpsGet(server.port('HTTPS'), '/live/s.m3u8')).status === 200, 20_000, 250), 'playlist over HTTPS');
  const hls = await probe(httpsUrl('live/s.m3u8'), 2);
  const video = hls.streams.find((s) => s.codec_type === 'video');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 320);
  const api = await httpsGet(server.port('HTTPS'), '/api/v1/versions');
  assert.equal(api.status, 200);
  assert.equal((JSON.parse(api.body) as { code: number }).code, 0);
  const streams = JSON.parse((await httpsGet(server.port('HTTPS'), '/api/v1/streams/')).body) as { streams: Array<{ name: string; publish: { active: boolean } }> };
  assert.ok(streams.streams.some((s) => s.name === 's' && s.publish.active), 'the RTMPS publisher is in the statistics');
});

test('SNI: the certificate of the name asked, else the listener own one', async () => {
  for (const port of [server.port('HTTPS'), server.port('RTMPS')]) {
    assert.equal((await peerCert(port, 'other.test')).subject.CN, 'other.test');
    assert.equal((await peerCert(port, 'a.other.test')).subject.CN, 'other.test');
    assert.equal((await peerCert(port, 'sluice.test')).subject.CN, 'sluice.test');
    assert.equal((await peerCert(port, 'a.b.other.test')).subject.CN, 'sluice.test');
  }
});

test('garbage and a stalled handshake end that connection, with bounded logs; the server goes on', async () => {
  const port = server.port('HTTPS');
  const before = server.logs.filter((l) => l.msg === 'TLS handshake failed; connection closed').length;
  const closedAfter = (send: Buffer | null): Promise<number> =>
    new Promise((resolve) => {
      const started = Date.now();
      const s = net.connect(port, '127.0.0.1', () => {
        if (send) s.write(send);
      });
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.on('close', () => resolve(Date.now() - started));
    });
  const garbage = await Promise.all(Array.from({ length: 30 }, (_, i) => closedAfter(Buffer.from(`GET / HTTP/1.1\r\n${'x'.repeat(i * 50)}\r\n`))));
  assert.ok(garbage.every((ms) => ms < 5000), `garbage closed after ${garbage.join(',')} ms`);
  // A client that sends half a ClientHello and then nothing: the handshake timeout (1 s) closes it.
  const half = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
  const stalled = await Promise.all([closedAfter(half), closedAfter(null)]);
  assert.ok(stalled.every((ms) => ms >= 800 && ms < 8000), `stalled handshakes closed after ${stalled.join(',')} ms`);
  const logged = server.logs.filter((l) => l.msg === 'TLS handshake failed; connection closed').length - before;
  assert.ok(logged >= 1 && logged <= 10, `${logged} handshake-failure lines for 32 bad clients`);
  assert.equal((await httpsGet(port, '/api/v1/versions')).status, 200);
});

test('a certificate replaced on disk: new connections get it, a connected player keeps decoding', async () => {
  const port = server.port('HTTPS');
  const oldSerial = (await peerCert(port, 'localhost')).serialNumber;
  const plays = server.logs.filter((l) => l.msg === 'HTTP-FLV play started').length;
  const player = decodeFrames(httpsUrl('live/s.flv'), 10);
  assert.ok(await waitFor(() => server.logs.filter((l) => l.msg === 'HTTP-FLV play started').length > plays, 15_000), 'the player is connected');
  const next = ca.issue('next', ['sluice.test']);
  // Written next to the files and renamed over them, as certbot and cert-manager do.
  copyFileSync(next.key, join(ca.dir, 'main.key.tmp'));
  copyFileSync(next.cert, join(ca.dir, 'main.crt.tmp'));
  renameSync(join(ca.dir, 'main.key.tmp'), main.key);
  renameSync(join(ca.dir, 'main.crt.tmp'), main.cert);
  await server.waitForLog((l) => l.msg === 'TLS: new certificate in use' && l['listener'] === 'https', 15_000);
  await server.waitForLog((l) => l.msg === 'TLS: new certificate in use' && l['listener'] === 'rtmps', 15_000);
  const newSerial = (await peerCert(port, 'localhost')).serialNumber;
  assert.notEqual(newSerial, oldSerial, 'a new handshake gets the new certificate');
  assert.notEqual((await peerCert(server.port('RTMPS'), 'localhost')).serialNumber, oldSerial);
  const r = await player;
  assert.equal(r.code, 0, r.stderr.slice(-400));
  assert.ok(r.frames >= 200, `the player connected before the swap decoded ${r.frames} frames in 10 s`);
});
