/**
 * Forward (`vhost.forward`): a stream published at Sluice is pushed to a
 * second Sluice and to nginx-rtmp (Debian's libnginx-mod-rtmp), and plays
 * there; a destination that dies and comes back gets the stream again; the
 * backend's on_forward answer picks the destination; unpublish stops the push.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, decodeFrames } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { nginxRtmpAvailable, startNginxRtmp } from '../helpers/forward-nginx.js';

const PEER = `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
vhost __defaultVhost__ { }
`;

function forwarderConfig(forward: string, extra = ''): string {
  return `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
${extra}
vhost __defaultVhost__ {
  forward { enabled on; ${forward} }
}
`;
}

interface ForwardRow {
  stream_url: string;
  destination: string;
  state: string;
  reconnects: number;
  send_bytes: number;
}

async function forwards(s: RunningServer): Promise<ForwardRow[]> {
  const r = (await (await fetch(s.apiUrl('/api/v1/forwards'))).json()) as { forwards: ForwardRow[] };
  return r.forwards;
}

/** `decodeSeconds`: how long to decode; a server without a GOP cache (nginx-rtmp) starts a player at the next keyframe, up to one GOP later. */
async function assertPlays(url: string, decodeSeconds = 2): Promise<void> {
  const r = await probe(url, 2);
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264', `video at ${url}`);
  assert.equal(v?.width, 320);
  assert.equal(v?.height, 240);
  assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac', `audio at ${url}`);
  const d = await decodeFrames(url, decodeSeconds);
  assert.ok(d.frames >= 25, `decoded ${d.frames} frames at ${url} (ffmpeg exit ${d.code}): ${d.stderr.slice(-600)}`);
}

test('a stream published at Sluice is forwarded to a second Sluice (and not to itself), and unpublish stops the push', async () => {
  const peer = await startServer({ config: PEER });
  let origin: RunningServer | null = null;
  try {
    origin = await startServer({
      config: forwarderConfig(`destination 127.0.0.1:${peer.rtmpPort} 127.0.0.1:{{RTMP}};`, 'exporter { enabled on; listen {{EXPORTER}}; }'),
    });
    const pub = publish(origin.rtmpUrl('live/fwd?token=t1'), { seconds: 12 });
    try {
      await peer.waitForLog((l) => l.msg === 'publish started', 20_000);
      const loop = await origin.waitForLog((l) => /forward loop/.test(l.msg), 10_000);
      assert.equal(loop.code, 1030);
      await assertPlays(peer.rtmpUrl('live/fwd'));
      const rows = await forwards(origin);
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.equal(rows[0]!.state, 'forwarding');
      assert.equal(rows[0]!.stream_url, '/live/fwd');
      assert.match(rows[0]!.destination, new RegExp(`^rtmp://127\\.0\\.0\\.1:${peer.rtmpPort}/live/fwd\\?token=t1$`));
      assert.ok(rows[0]!.send_bytes > 10_000, `sent ${rows[0]!.send_bytes} bytes`);
      const metrics = await (await fetch(`http://127.0.0.1:${origin.port('EXPORTER')}/metrics`)).text();
      assert.match(metrics, /^sluice_forwards\{state="forwarding"\} 1$/m);
      const sent = Number(/^sluice_forward_send_bytes_total (\d+)/m.exec(metrics)?.[1] ?? 0);
      assert.ok(sent > 10_000, `exporter says ${sent} bytes forwarded`);
    } finally {
      await pub.stop();
    }
    // Unpublish: the forward ends and the peer's publisher goes away.
    assert.ok(await waitFor(async () => (await forwards(origin!)).length === 0, 15_000), 'the forward is still listed after unpublish');
    await peer.waitForLog((l) => l.msg === 'publish stopped' || /unpublish/i.test(l.msg), 15_000);
  } finally {
    await origin?.stop();
    await peer.stop();
  }
});

test('forward to nginx-rtmp (libnginx-mod-rtmp): ffprobe plays the stream there', { skip: !nginxRtmpAvailable() && 'libnginx-mod-rtmp is not installed' }, async () => {
  const nginx = await startNginxRtmp();
  let origin: RunningServer | null = null;
  try {
    origin = await startServer({ config: forwarderConfig(`destination 127.0.0.1:${nginx.port};`) });
    const pub = publish(origin.rtmpUrl('live/tonginx'), { seconds: 30 });
    try {
      await origin.waitForLog((l) => l.msg === 'forward started', 20_000);
      // nginx-rtmp keeps no GOP: the player's first video is the next keyframe (the publisher's GOP is 2 s),
      // while -t counts the audio from the first packet; 2 s of decoding could end before any picture.
      await assertPlays(`rtmp://127.0.0.1:${nginx.port}/live/tonginx`, 5);
    } finally {
      await pub.stop();
    }
  } finally {
    await origin?.stop();
    await nginx.stop();
  }
});

test('the destination is killed and restarted: forwarding resumes and the restarted peer plays', async () => {
  let peer = await startServer({ config: PEER });
  const peerPort = peer.rtmpPort;
  let origin: RunningServer | null = null;
  try {
    origin = await startServer({ config: forwarderConfig(`destination 127.0.0.1:${peerPort};`) });
    const pub = publish(origin.rtmpUrl('live/again'), { seconds: 40 });
    try {
      await origin.waitForLog((l) => l.msg === 'forward started', 20_000);
      peer.signal('SIGKILL');
      await peer.exited;
      await origin.waitForLog((l) => l.msg === 'forward failed, retrying', 15_000);
      assert.ok(await waitFor(async () => (await forwards(origin!))[0]?.state !== 'forwarding', 10_000));
      peer = await startServer({ config: PEER.replace('{{RTMP}}', String(peerPort)) });
      assert.ok(
        await waitFor(async () => (await forwards(origin!))[0]?.state === 'forwarding', 30_000),
        `forward did not resume: ${JSON.stringify(await forwards(origin))}`,
      );
      const rows = await forwards(origin);
      assert.ok(rows[0]!.reconnects >= 1, JSON.stringify(rows));
      await assertPlays(`rtmp://127.0.0.1:${peerPort}/live/again`);
    } finally {
      await pub.stop();
    }
  } finally {
    await origin?.stop();
    await peer.stop();
  }
});

test('backend: on_forward gets SRS body, its data.urls is where the stream goes (destination ignored); srt refused (rtmps is tried)', async () => {
  const peer = await startServer({ config: PEER });
  const bodies: Record<string, unknown>[] = [];
  const backend = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 0, data: { urls: [`rtmp://127.0.0.1:${peer.rtmpPort}/relay/[stream]-copy`, 'rtmps://127.0.0.1:4443/live/x', 'srt://127.0.0.1:10080'] } }));
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const backendPort = (backend.address() as AddressInfo).port;
  let origin: RunningServer | null = null;
  try {
    origin = await startServer({ config: forwarderConfig(`destination 127.0.0.1:1; backend http://127.0.0.1:${backendPort}/api/v1/forward;`) });
    const pub = publish(origin.rtmpUrl('live/viaback'), { seconds: 12 });
    try {
      await origin.waitForLog((l) => l.msg === 'forward started', 20_000);
      const refused = origin.logs.filter((l) => l.msg === 'forward destination refused').map((l) => String(l.reason));
      assert.equal(refused.length, 1, JSON.stringify(refused));
      assert.ok(refused.some((r) => r.startsWith('srt://')) && !refused.some((r) => r.startsWith('rtmps://')), JSON.stringify(refused));
      assert.equal(bodies.length, 1);
      const b = bodies[0]!;
      assert.deepEqual(Object.keys(b), ['action', 'server_id', 'service_id', 'client_id', 'ip', 'vhost', 'app', 'tcUrl', 'stream', 'param']);
      assert.equal(b.action, 'on_forward');
      assert.equal(b.vhost, '__defaultVhost__');
      assert.equal(b.app, 'live');
      assert.equal(b.stream, 'viaback');
      assert.match(String(b.ip), /127\.0\.0\.1/);
      assert.match(String(b.tcUrl), /^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
      await assertPlays(peer.rtmpUrl('relay/viaback-copy'));
      const rows = await forwards(origin);
      assert.equal(rows.length, 2, JSON.stringify(rows));
      assert.ok(rows.some((r) => JSON.stringify(r).includes('rtmps://127.0.0.1:4443/live/x')), 'the rtmps:// URL is a forward (retrying: nothing listens there)');
    } finally {
      await pub.stop();
    }
  } finally {
    await origin?.stop();
    await peer.stop();
    await new Promise<void>((r) => backend.close(() => r()));
  }
});

test('reload (SIGHUP) turns forward on for a stream already published, and off again', async () => {
  const peer = await startServer({ config: PEER });
  let origin: RunningServer | null = null;
  try {
    origin = await startServer({ config: forwarderConfig('').replace('forward { enabled on;  }', 'forward { enabled off; }') });
    const pub = publish(origin.rtmpUrl('live/later'), { seconds: 30 });
    try {
      await origin.waitForLog((l) => l.msg === 'publish started', 20_000);
      assert.equal((await forwards(origin)).length, 0);
      const text = readFileSync(origin.configFile, 'utf8');
      writeFileSync(origin.configFile, text.replace('forward { enabled off; }', `forward { enabled on; destination 127.0.0.1:${peer.rtmpPort}; }`));
      origin.signal('SIGHUP');
      await origin.waitForLog((l) => l.msg === 'forward started', 20_000);
      await assertPlays(peer.rtmpUrl('live/later'));
      writeFileSync(origin.configFile, text);
      origin.signal('SIGHUP');
      assert.ok(await waitFor(async () => (await forwards(origin!)).length === 0, 15_000), 'forward still listed after it was turned off');
    } finally {
      await pub.stop();
    }
  } finally {
    await origin?.stop();
    await peer.stop();
  }
});
