/**
 * RTMPS on `sluice proxy`: the proxy ends TLS (a test CA's certificate from
 * PROXY_RTMPS_KEY / PROXY_RTMPS_CERT) and routes like RTMP. FFmpeg publishes
 * `rtmps://` through the proxy to a Sluice origin; ffprobe plays it back over
 * RTMPS and RTMP through the proxy. A client that verifies sees the CA's
 * certificate; plain bytes on the TLS port end with a bounded log line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { startProxy, type RunningProxy } from '../helpers/proxy-process.js';
import { probe, publish, type Proc, type ProbeResult } from '../helpers/ffmpeg.js';
import { makeTestCa } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

function originConfig(registerPort: number): string {
  return `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
heartbeat { enabled on; interval 1; url http://127.0.0.1:${registerPort}/api/v1/srs/register; device_id o1; ports on; }
vhost __defaultVhost__ { play { gop_cache on; } }
`;
}

function assertVideo(r: ProbeResult, what: string): void {
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264', `${what}: video codec`);
  assert.equal(v?.width, 320, `${what}: width`);
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac', `${what}: audio codec`);
  const frames = r.packets.filter((p) => p.stream_index === r.streams.indexOf(v!)).length;
  assert.ok(frames >= 40, `${what}: ${frames} video packets`);
}

test('RTMPS through the proxy: ffmpeg publishes rtmps://, ffprobe plays over RTMPS and RTMP', { timeout: 180_000 }, async () => {
  const ca = makeTestCa();
  const c = ca.issue('proxy', ['proxy.test']);
  let proxy: RunningProxy | null = null;
  let origin: RunningServer | null = null;
  let pub: Proc | null = null;
  try {
    proxy = await startProxy({ PROXY_LOAD_BALANCER_TYPE: 'memory', PROXY_RTMPS_SERVER: '127.0.0.1:0', PROXY_RTMPS_KEY: c.key, PROXY_RTMPS_CERT: c.cert });
    const p = proxy;
    assert.ok(p.rtmpsPort > 0, 'the proxy says its RTMPS port');
    origin = await startServer({ config: originConfig(p.systemPort), extraEnv: { SRS_DEVICE_IP: '127.0.0.1' } });
    assert.ok(await waitFor(async () => ((await p.api('/api/v1/proxy/origins')).body.origins as unknown[]).length === 1, 20_000), 'the origin registered');

    // A verifying client sees the configured certificate.
    const sock = tls.connect({ host: '127.0.0.1', port: p.rtmpsPort, servername: 'proxy.test', ca: readFileSync(ca.caCert) });
    await new Promise<void>((resolve, reject) => {
      sock.once('secureConnect', () => resolve());
      sock.once('error', reject);
    });
    assert.equal(sock.authorized, true, String(sock.authorizationError));
    assert.equal(sock.getPeerCertificate().subject.CN, 'proxy.test');
    sock.destroy();

    // Plain bytes on the TLS port: the connection ends, one log line.
    const plain = net.connect(p.rtmpsPort, '127.0.0.1');
    plain.on('error', () => undefined);
    plain.resume();
    plain.write(Buffer.alloc(1537, 3));
    await new Promise<void>((r) => plain.once('close', () => r()));
    assert.ok(await waitFor(() => p.logs.some((l) => l.msg === 'TLS handshake failed; connection closed'), 5000), 'the failed handshake is logged');

    pub = publish(`rtmps://127.0.0.1:${p.rtmpsPort}/live/sec`, { seconds: 120, gop: 25 });
    assert.ok(await waitFor(async () => ((await p.api('/api/v1/proxy/sessions')).body.rtmp_publish as number) === 1, 20_000), 'the RTMPS publisher is joined to the origin');
    const o = origin;
    assert.ok(
      await waitFor(async () => {
        const j = (await (await fetch(o.apiUrl('/api/v1/streams'))).json()) as { streams?: { name: string; publish?: { active: boolean } }[] };
        return j.streams?.some((s) => s.name === 'sec' && s.publish?.active === true) ?? false;
      }, 15_000),
      'the origin holds the publish',
    );
    assertVideo(await probe(`rtmps://127.0.0.1:${p.rtmpsPort}/live/sec`), 'RTMPS via the proxy');
    assertVideo(await probe(`rtmp://127.0.0.1:${p.rtmpPort}/live/sec`), 'RTMP via the proxy');
    assertVideo(await probe(o.rtmpUrl('live/sec')), 'RTMP of the origin');
  } finally {
    await pub?.stop();
    await origin?.stop();
    await proxy?.stop();
    ca.remove();
  }
});
