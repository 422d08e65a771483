/**
 * Forward, sans network where possible: destination forms and SRS's URL
 * rules, the loop guard, the backend contract; and one Forwarder against a
 * fake RTMP destination that stops reading, to show the queue stays bounded,
 * the publisher side never waits, and the overflow is logged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { isForwardLoop, parseForwardTarget, type ForwardedStream, type SelfAddress } from '../../src/outputs/forward/forward-target.js';
import { backendUrls, onForwardBody } from '../../src/outputs/forward/forward-backend.js';
import { Forwarder } from '../../src/outputs/forward/forwarder.js';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { LiveSource } from '../../src/live/live-source.js';
import { RtmpServerConnection } from '../../src/protocol/rtmp/server-connection.js';
import type { Logger } from '../../src/log/logger.js';
import { waitFor } from '../helpers/wait.js';

const S: ForwardedStream = { vhost: '__defaultVhost__', app: 'live', stream: 's', param: '?token=x' };

function target(entry: string, s: ForwardedStream = S) {
  const r = parseForwardTarget(entry, s);
  if (!r.ok) throw new Error(r.reason);
  return r.target;
}

test('host[:port] keeps app, stream and param; the vhost query only for a named vhost', () => {
  const t = target('10.0.0.2:19350');
  assert.equal(t.host, '10.0.0.2');
  assert.equal(t.port, 19350);
  assert.equal(t.app, 'live');
  assert.equal(t.tcUrl, 'rtmp://10.0.0.2:19350/live');
  assert.equal(t.publishName, 's?token=x');
  assert.equal(t.url, 'rtmp://10.0.0.2:19350/live/s?token=x');
  assert.equal(target('peer').port, 1935);
  const named = target('peer:1936', { ...S, vhost: 'v.com' });
  assert.equal(named.publishName, 's?token=x&vhost=v.com');
  assert.equal(target('peer', { ...S, vhost: 'v.com', param: '' }).publishName, 's?vhost=v.com');
  assert.equal(target('peer', { ...S, vhost: 'v.com', param: '?vhost=w.com' }).publishName, 's?vhost=w.com');
  assert.equal(target('[::1]:1937').host, '::1');
  assert.equal(target('[::1]:1937').tcUrl, 'rtmp://[::1]:1937/live');
});

test('host:port/app/stream and rtmp:// URLs name the target; variables are replaced', () => {
  const t = target('10.0.0.2:1936/backup/[stream]-hd');
  assert.equal(t.app, 'backup');
  assert.equal(t.url, 'rtmp://10.0.0.2:1936/backup/s-hd');
  const u = target('rtmp://cdn.example.com/a/b/[app]-[stream]?k=1');
  assert.equal(u.port, 1935);
  assert.equal(u.app, 'a/b');
  assert.equal(u.publishName, 'live-s?k=1');
  assert.equal(u.vhost, 'cdn.example.com');
});

test('rtmps:// goes over TLS, on port 443 unless named', () => {
  const r = parseForwardTarget('rtmps://live.example.com/app/[stream]', S);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.target.tls, true);
  assert.equal(r.target.port, 443);
  assert.equal(r.target.tcUrl, 'rtmps://live.example.com:443/app');
  const p = parseForwardTarget('rtmps://h:1443/live/s', S);
  assert.ok(p.ok && p.target.port === 1443 && p.target.tls);
  const plain = parseForwardTarget('rtmp://h/live/s', S);
  assert.ok(plain.ok && !plain.target.tls);
});

test('forward rtmps on (SRS 7): entries without a scheme go over TLS, their port kept; a written scheme wins', () => {
  const hp = parseForwardTarget('127.0.0.1:19430', S, true);
  assert.ok(hp.ok && hp.target.tls && hp.target.port === 19430);
  if (hp.ok) assert.equal(hp.target.tcUrl, `rtmps://127.0.0.1:19430/${S.app}`);
  const bare = parseForwardTarget('h', S, true);
  assert.ok(bare.ok && bare.target.tls && bare.target.port === 1935);
  const path = parseForwardTarget('h:1443/live/s', S, true);
  assert.ok(path.ok && path.target.tls && path.target.tcUrl === 'rtmps://h:1443/live');
  const written = parseForwardTarget('rtmp://h/live/s', S, true);
  assert.ok(written.ok && !written.target.tls);
});

test('srt:// and nonsense are refused with a reason', () => {
  for (const bad of ['srt://h:10080?streamid=x', 'http://h/x']) {
    const r = parseForwardTarget(bad, S);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.reason, /not supported/);
  }
  for (const bad of ['host:99999', 'a b', 'rtmp://host/onlyapp', 'host:port']) assert.equal(parseForwardTarget(bad, S).ok, false, bad);
});

test('loop guard: this stream on this server is refused, another stream or server is not', () => {
  const self: SelfAddress = { rtmpPorts: [1935], rtmpsPorts: [1443], hosts: new Set(['127.0.0.1', 'media.local']), resolveVhost: () => '__defaultVhost__' };
  assert.equal(isForwardLoop(target('127.0.0.1'), S, self), true);
  assert.equal(isForwardLoop(target('media.local:1935'), S, self), true);
  assert.equal(isForwardLoop(target('127.0.0.1:1936'), S, self), false);
  assert.equal(isForwardLoop(target('10.9.9.9'), S, self), false);
  assert.equal(isForwardLoop(target('127.0.0.1:1935/live/[stream]-copy'), S, self), false);
  // RTMPS: this server's RTMPS port is a loop over rtmps://, and the RTMP port is not one over TLS (nor the other way round).
  assert.equal(isForwardLoop(target('rtmps://127.0.0.1:1443/live/[stream]'), S, self), true);
  assert.equal(isForwardLoop(target('rtmps://media.local:1935/live/[stream]'), S, self), false);
  assert.equal(isForwardLoop(target('127.0.0.1:1443'), S, self), false);
});

test('on_forward body keys in SRS order; data.urls read, empty entries skipped, a bad answer throws', () => {
  const body = JSON.parse(
    onForwardBody({ serverId: 'vid-1', serviceId: 'x', clientId: 'c1', ip: '1.2.3.4', vhost: '__defaultVhost__', app: 'live', tcUrl: 'rtmp://h/live', stream: 's', param: '' }),
  ) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['action', 'server_id', 'service_id', 'client_id', 'ip', 'vhost', 'app', 'tcUrl', 'stream', 'param']);
  assert.equal(body.action, 'on_forward');
  assert.deepEqual(backendUrls({ code: 0, data: { urls: ['rtmp://a/live/s', '', 3, ' '] } }), ['rtmp://a/live/s']);
  assert.deepEqual(backendUrls({ code: 0, data: { urls: [] } }), []);
  assert.throws(() => backendUrls({ code: 0 }), /data\.urls/);
  assert.throws(() => backendUrls({ code: 0, data: { urls: 'rtmp://a/live/s' } }), /data\.urls/);
});

/** A destination that accepts the publish and then reads nothing more (a stalled peer). */
async function stalledDestination(): Promise<{ port: number; published: Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let onPublished!: () => void;
  const published = new Promise<void>((r) => (onPublished = r));
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
    const conn = new RtmpServerConnection();
    sock.on('data', (d: Buffer) => {
      for (const e of conn.feed(d)) {
        if (e.type === 'send') sock.write(e.data);
        else if (e.type === 'connect') sock.write(conn.connectResult(e.transactionId));
        else if (e.type === 'createStream') sock.write(conn.createStreamResult(e.transactionId, 1));
        else if (e.type === 'publish') {
          sock.write(conn.publishStart(1, e.streamName));
          sock.pause();
          onPublished();
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    published,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function capturingLog(lines: { msg: string; obj: Record<string, unknown> }[]): Logger {
  const log = {
    info: (obj: Record<string, unknown>, msg: string) => lines.push({ msg, obj }),
    warn: (obj: Record<string, unknown>, msg: string) => lines.push({ msg, obj }),
    child: () => log,
  };
  return log as unknown as Logger;
}

test('a stalled destination: the queue stays within queue_length, frames are dropped with a log line, the publisher never waits', async () => {
  const dest = await stalledDestination();
  const lines: { msg: string; obj: Record<string, unknown> }[] = [];
  const source = new LiveSource('__defaultVhost__', 'live', 's', { gopCache: true, gopCacheMaxFrames: 0, timeJitter: 'off', republishWaitMs: 50 });
  const f = new Forwarder(target(`127.0.0.1:${dest.port}`), source, { queueLengthMs: 2000, chunkSize: 60000, log: capturingLog(lines), backoffMinMs: 50, backoffMaxMs: 100 });
  try {
    f.start();
    await dest.published;
    assert.ok(await waitFor(() => f.state === 'forwarding', 10_000), `state ${f.state}`);
    const header = new MediaFrame('video', 'H264', 0, 0, true, true, Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0]), null);
    f.onFrame(header);
    // 60 s of media at 25 fps with 200 KB frames (300 MB): far more than the socket buffers hold.
    const payload = Buffer.alloc(200_000, 7);
    let slowest = 0;
    for (let i = 0; i < 1500; i++) {
      const t0 = performance.now();
      f.onFrame(new MediaFrame('video', 'H264', i * 40, i * 40, i % 50 === 0, false, payload, null));
      slowest = Math.max(slowest, performance.now() - t0);
      if (i % 25 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.ok(slowest < 200, `one frame took ${slowest.toFixed(1)} ms to hand over`);
    assert.ok(f.framesDropped > 500, `dropped ${f.framesDropped} frames`);
    assert.ok(f.bytesSent < 150_000_000, `wrote ${f.bytesSent} bytes into a stalled socket`);
    const drop = lines.find((l) => /too slow/.test(l.msg));
    assert.ok(drop, JSON.stringify(lines.map((l) => l.msg)));
    assert.ok(lines.filter((l) => /too slow/.test(l.msg)).length <= 2, 'overflow lines are rate limited');
    // The destination goes away: backoff, then stop ends it all.
    await dest.close();
    assert.ok(await waitFor(() => f.state === 'backoff' || f.state === 'connecting', 10_000), `state ${f.state}`);
  } finally {
    f.stop();
    await dest.close().catch(() => undefined);
  }
  assert.equal(f.state, 'stopped');
});
