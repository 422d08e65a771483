/**
 * Access control with real clients: IPv4 and IPv6 allow/deny rules with
 * CIDRs per vhost, the refer check, and max_connections.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, run, sleep } from '../helpers/ffmpeg.js';

let server: RunningServer;

before(async () => {
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
}
vhost nolocal {
  security { enabled on; deny publish 127.0.0.0/8; allow play all; }
}
vhost lan {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  security { enabled on; allow publish 10.0.0.0/8; allow publish 127.0.0.0/24; deny play 127.0.0.1; }
}
vhost v6only {
  security { enabled on; allow publish ::1/128; allow play 2001:db8::/32; }
}
vhost referred {
  refer { enabled on; play example.com; }
}
`,
  });
});

after(async () => server?.stop());

interface ApiStream {
  name: string;
  url: string;
  publish: { active: boolean };
}
interface ApiVhost {
  name: string;
  recv_bytes: number;
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(server.apiUrl(path));
  assert.equal(res.status, 200, path);
  return (await res.json()) as T;
}

/** Bytes the server has received on a vhost (the API brings its counters up to date on every answer). */
async function vhostRecvBytes(vhost: string): Promise<number> {
  const { vhosts } = await api<{ vhosts: ApiVhost[] }>('/api/v1/vhosts/');
  return vhosts.find((v) => v.name === vhost)?.recv_bytes ?? 0;
}

/** Waits until the API lists the stream (`vhost/app/stream` as its url says) with an active publisher. */
async function waitForPublisher(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { streams } = await api<{ streams: ApiStream[] }>('/api/v1/streams/');
    if (streams.some((st) => st.url === url && st.publish.active)) return;
    if (Date.now() > deadline) assert.fail(`no active publisher on ${url}: ${JSON.stringify(streams)}`);
    await sleep(100);
  }
}

/** Media a publisher sends in 3 s is far more than the RTMP handshake and commands of a refused one. */
const MEDIA_BYTES = 20_000;

/**
 * Publishes for 3 s; the verdict is what a publisher sees: ffmpeg's exit code
 * and the server's error message it prints; and what the API saw arrive.
 */
async function tryPublish(url: string, vhost: string, extra: string[] = []): Promise<{ verdict: 'accepted' | 'refused'; serverError: string }> {
  const bytesBefore = await vhostRecvBytes(vhost);
  const p = extra.length
    ? run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15', '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', ...extra, '-f', 'flv', url], 30_000)
    : publish(url, { seconds: 3, size: '160x120', audio: false });
  const code = await p.done;
  const received = (await vhostRecvBytes(vhost)) - bytesBefore;
  const serverError = /Server error: (.*)/.exec(p.stderr())?.[1] ?? '';
  if (code === 0) {
    assert.ok(received > MEDIA_BYTES, `ffmpeg published, and the API saw ${received} bytes arrive on ${vhost}`);
    return { verdict: 'accepted', serverError };
  }
  assert.ok(serverError, `a refused publisher is told why: ${p.stderr()}`);
  assert.ok(received < MEDIA_BYTES, `refused, yet the API saw ${received} bytes arrive on ${vhost}`);
  return { verdict: 'refused', serverError };
}

/** Plays for `seconds` by RTMP with extra ffmpeg input options; the exit code and the server's error message. */
async function tryPlay(url: string, seconds: number, extra: string[] = []): Promise<{ code: number | null; serverError: string; stderr: string }> {
  const p = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...extra, '-i', url, '-t', String(seconds), '-f', 'null', '-'], 20_000);
  const code = await p.done;
  return { code, serverError: /Server error: (.*)/.exec(p.stderr())?.[1] ?? '', stderr: p.stderr() };
}

test('deny publish by IPv4 CIDR (1053) on one vhost; others unaffected', async () => {
  const denied = await tryPublish(server.rtmpUrl('live/a?vhost=nolocal'), 'nolocal');
  assert.equal(denied.verdict, 'refused');
  assert.match(denied.serverError, /denied for publish by "deny publish 127\.0\.0\.0\/8"/);
  assert.equal((await tryPublish(server.rtmpUrl('live/a'), '__defaultVhost__')).verdict, 'accepted', 'the default vhost has no rules');
});

test('allow publish by CIDR, deny play by exact IP (RTMP and HTTP-FLV)', async () => {
  const pub = publish(server.rtmpUrl('live/cam?vhost=lan'), { seconds: 10, size: '160x120' });
  try {
    await waitForPublisher('lan/live/cam');
    const play = await tryPlay(server.rtmpUrl('live/cam?vhost=lan'), 2);
    assert.notEqual(play.code, 0, 'RTMP play from 127.0.0.1 is denied');
    assert.match(play.serverError, /denied for play by "deny play 127\.0\.0\.1"/, play.stderr);
    const flv = await fetch(server.httpUrl('live/cam.flv?vhost=lan'));
    assert.equal(flv.status, 403, 'HTTP-FLV play from 127.0.0.1 is denied');
    await flv.body?.cancel();
  } finally {
    await pub.stop();
  }
});

test('IPv6 rules: ::1 allowed to publish, 127.0.0.1 not (allow list, 1054)', async () => {
  const denied = await tryPublish(server.rtmpUrl('live/six?vhost=v6only'), 'v6only');
  assert.equal(denied.verdict, 'refused');
  assert.match(denied.serverError, /not allowed to publish/);
  const url = `rtmp://[::1]:${server.rtmpPort}/live/six?vhost=v6only`;
  assert.equal((await tryPublish(url, 'v6only')).verdict, 'accepted', 'from ::1');
});

test('refer: play needs a page URL from the listed domain (ffmpeg sends pageUrl when playing)', async () => {
  const pub = publish(server.rtmpUrl('live/r?vhost=referred'), { seconds: 12, size: '160x120' });
  try {
    await waitForPublisher('referred/live/r');
    const bad = await tryPlay(server.rtmpUrl('live/r?vhost=referred'), 1, ['-rtmp_pageurl', 'http://evil.org/example.com']);
    assert.notEqual(bad.code, 0, 'a page from another domain is refused');
    assert.match(bad.serverError, /^refer: .*not from an allowed domain/, bad.stderr);
    const good = await tryPlay(server.rtmpUrl('live/r?vhost=referred'), 1, ['-rtmp_pageurl', 'http://live.example.com/page.html']);
    assert.equal(good.code, 0, good.stderr);
  } finally {
    await pub.stop();
  }
});

test('max_connections: the connection over the limit is refused with a log line', { timeout: 30_000 }, async () => {
  const small = await startServer({ config: 'listen {{RTMP}};\nmax_connections 2;\nsrs_log_tank console;\nhttp_api { enabled on; listen {{API}}; }\nvhost __defaultVhost__ {}\n' });
  const sockets: net.Socket[] = [];
  try {
    // One RTMP and one API connection: the count spans listeners. (A second
    // unauthenticated RTMP connection would meet the pre-auth budget first.)
    for (const port of [small.rtmpPort, small.apiPort]) {
      const s = net.connect(port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      sockets.push(s);
      // Two listeners accept on their own: let the server take the RTMP one first.
      if (port === small.rtmpPort) await small.waitForLog((l) => l.msg === 'RTMP client connected');
    }
    // The kernel hands connections to the server in the order they came: the third is the one over the limit.
    const third = net.connect(small.apiPort, '127.0.0.1');
    third.on('error', () => {}); // a reset instead of a close is a refusal too
    sockets.push(third);
    const ended = await new Promise<'closed'>((r) => third.once('close', () => r('closed')));
    assert.equal(ended, 'closed');
    // The first two are still served.
    assert.ok(sockets.slice(0, 2).every((s) => !s.destroyed), 'the connections within the limit stay open');
    const line = await small.waitForLog((l) => /max_connections/.test(l.msg));
    assert.equal(line.max, 2);
  } finally {
    for (const s of sockets) s.destroy();
    await small.stop();
  }
});
