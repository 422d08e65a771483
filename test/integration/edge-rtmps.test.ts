/**
 * An edge whose origin is `rtmps://`: players at the edge pull over RTMP
 * over TLS from a Sluice origin's RTMPS listener (certificate of a test CA,
 * trusted by the edge through NODE_EXTRA_CA_CERTS), and a publisher at the
 * edge is relayed to the origin over RTMPS. An edge that does not trust the
 * origin's certificate pulls nothing and says why.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, decodeFrames } from '../helpers/ffmpeg.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

let ca: TestCa;
let origin: RunningServer;
let edge: RunningServer;

function edgeConfig(rtmpsPort: number): string {
  return `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; }
vhost __defaultVhost__ {
  cluster { mode remote; origin rtmps://localhost:${rtmpsPort}; }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
}
`;
}

before(async () => {
  ca = makeTestCa();
  const c = ca.issue('origin', ['origin.test']);
  origin = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
rtmps { enabled on; listen {{RTMPS}}; key ${c.key}; cert ${c.cert}; }
vhost __defaultVhost__ { play { gop_cache on; } }
`,
  });
  edge = await startServer({ config: edgeConfig(origin.port('RTMPS')), extraEnv: { NODE_EXTRA_CA_CERTS: ca.caCert } });
});

after(async () => {
  await edge?.stop();
  await origin?.stop();
  ca?.remove();
});

interface ApiClient {
  type: string;
  url: string;
  tcUrl: string;
}

async function originClients(): Promise<ApiClient[]> {
  return ((await (await fetch(origin.apiUrl('/api/v1/clients/?count=100'))).json()) as { clients: ApiClient[] }).clients;
}

test('players at the edge pull over RTMPS from the origin', { timeout: 60_000 }, async () => {
  const pub = publish(origin.rtmpUrl('live/o'), { seconds: 30 });
  try {
    await origin.waitForLog((l) => l.msg === 'publish started', 15_000);
    const playing = Promise.all([probe(edge.rtmpUrl('live/o'), 3), decodeFrames(edge.httpUrl('live/o.flv'), 3)]);
    // The edge is one player of the origin, connected to its RTMPS port with an rtmps:// tcUrl.
    let seen: ApiClient | undefined;
    assert.ok(await waitFor(async () => (seen = (await originClients()).find((c) => c.type === 'rtmp-play' && c.url === '/live/o')) !== undefined, 20_000, 200), 'the edge plays at the origin');
    assert.equal(seen!.tcUrl, `rtmps://localhost:${origin.port('RTMPS')}/live`);
    const [r, flv] = await playing;
    assert.equal(r.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
    assert.ok(flv.frames >= 50, `HTTP-FLV at the edge decoded ${flv.frames} frames`);
  } finally {
    await pub.stop();
  }
});

test('a publisher at the edge is relayed to the origin over RTMPS', { timeout: 60_000 }, async () => {
  const pub = publish(edge.rtmpUrl('live/e'), { seconds: 30 });
  try {
    await edge.waitForLog((l) => l.msg === 'publish started', 15_000);
    assert.ok(await waitFor(async () => (await originClients()).some((c) => c.type === 'fmle-publish' && c.url === '/live/e' && c.tcUrl.startsWith('rtmps://')), 20_000, 200), 'the origin has the stream, over RTMPS');
    const r = await probe(origin.rtmpUrl('live/e'), 3);
    assert.equal(r.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    assert.ok(r.packets.length > 50, `${r.packets.length} packets at the origin`);
  } finally {
    await pub.stop();
  }
});

test('an edge that does not trust the origin\'s certificate pulls nothing and logs the TLS error', { timeout: 60_000 }, async () => {
  const untrusting = await startServer({ config: edgeConfig(origin.port('RTMPS')) });
  const pub = publish(origin.rtmpUrl('live/u'), { seconds: 20 });
  try {
    await origin.waitForLog((l) => l.msg === 'publish started' && String(l.stream ?? '').includes('/live/u'), 15_000);
    const player = probe(untrusting.rtmpUrl('live/u'), 2).catch(() => null);
    const failed = await untrusting.waitForLog((l) => l.msg === 'edge pull failed, retrying', 20_000);
    assert.match(String(failed['err']), /certificate|self.signed|issuer/i);
    assert.equal((await originClients()).some((c) => c.type === 'rtmp-play' && c.url === '/live/u'), false);
    await player;
  } finally {
    await pub.stop();
    await untrusting.stop();
  }
});
