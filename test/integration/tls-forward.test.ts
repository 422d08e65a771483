/**
 * forward to an `rtmps://` destination: server A forwards what ffmpeg
 * publishes to server B's RTMPS port (B's certificate from a test CA that A
 * trusts through NODE_EXTRA_CA_CERTS); ffprobe plays it from B. Without the
 * CA, A refuses B's certificate and says so in its log.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, type Proc } from '../helpers/ffmpeg.js';
import { makeTestCa } from '../helpers/test-ca.js';

const ca = makeTestCa();
const cert = ca.issue('b', ['origin.test']);
const cleanup: Array<RunningServer | Proc> = [];

after(async () => {
  for (const c of cleanup.reverse()) await c.stop();
  ca.remove();
});

async function originB(): Promise<RunningServer> {
  const b = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
rtmps { enabled on; listen {{RTMPS}}; key ${cert.key}; cert ${cert.cert}; }
vhost __defaultVhost__ { play { gop_cache on; } }
`,
  });
  cleanup.push(b);
  return b;
}

function forwarderConfig(b: RunningServer): string {
  return `
listen {{RTMP}};
srs_log_tank console;
vhost __defaultVhost__ { forward { enabled on; destination rtmps://127.0.0.1:${b.port('RTMPS')}/live/[stream]; } }
`;
}

test('forward over RTMPS reaches the destination; ffprobe plays it there', { timeout: 90_000 }, async () => {
  const b = await originB();
  const a = await startServer({ config: forwarderConfig(b), extraEnv: { NODE_EXTRA_CA_CERTS: ca.caCert } });
  cleanup.push(a);
  const p = publish(a.rtmpUrl('live/f'), { seconds: 40, gop: 25 });
  cleanup.push(p);
  await b.waitForLog((l) => l.msg === 'publish started', 30_000);
  const r = await probe(b.rtmpUrl('live/f'), 2);
  const video = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 320);
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
});

test('an RTMPS destination whose certificate is not trusted is not published to', { timeout: 60_000 }, async () => {
  const b = await originB();
  const a = await startServer({ config: forwarderConfig(b) });
  cleanup.push(a);
  const p = publish(a.rtmpUrl('live/g'), { seconds: 30 });
  cleanup.push(p);
  const l = await a.waitForLog((x) => /forward/i.test(x.msg) && /certificate/i.test(JSON.stringify(x)), 30_000);
  assert.ok(l);
  assert.ok(!b.logs.some((x) => x.msg === 'publish started'), 'B got no publisher');
});
