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

/** Publishes for a few seconds; resolves 'accepted' when the server logs the publish, else 'refused'. */
async function tryPublish(url: string, extra: string[] = []): Promise<'accepted' | 'refused'> {
  const before = server.logs.length;
  const p = extra.length
    ? run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15', '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', ...extra, '-f', 'flv', url], 30_000)
    : publish(url, { seconds: 3, size: '160x120', audio: false });
  const code = await p.done;
  const accepted = server.logs.slice(before).some((l) => l.msg === 'publish started');
  if (accepted) assert.equal(code, 0, p.stderr());
  return accepted ? 'accepted' : 'refused';
}

function denials(): { reason?: string }[] {
  return server.logs.filter((l) => l.msg === 'RTMP session denied') as { reason?: string }[];
}

test('deny publish by IPv4 CIDR (1053) on one vhost; others unaffected', async () => {
  assert.equal(await tryPublish(server.rtmpUrl('live/a?vhost=nolocal')), 'refused');
  assert.match(denials().at(-1)?.reason ?? '', /deny publish 127\.0\.0\.0\/8/);
  assert.equal(await tryPublish(server.rtmpUrl('live/a')), 'accepted', 'the default vhost has no rules');
});

test('allow publish by CIDR, deny play by exact IP (RTMP and HTTP-FLV)', async () => {
  const pub = publish(server.rtmpUrl('live/cam?vhost=lan'), { seconds: 10, size: '160x120' });
  try {
    await server.waitForLog((l) => l.msg === 'publish started' && String(l.stream ?? '').includes('cam'), 15_000);
    const play = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', server.rtmpUrl('live/cam?vhost=lan'), '-t', '2', '-f', 'null', '-'], 20_000);
    assert.notEqual(await play.done, 0, 'RTMP play from 127.0.0.1 is denied');
    const flv = await fetch(server.httpUrl('live/cam.flv?vhost=lan'));
    assert.equal(flv.status, 403, 'HTTP-FLV play from 127.0.0.1 is denied');
    await flv.body?.cancel();
  } finally {
    await pub.stop();
  }
});

test('IPv6 rules: ::1 allowed to publish, 127.0.0.1 not (allow list, 1054)', async () => {
  assert.equal(await tryPublish(server.rtmpUrl('live/six?vhost=v6only')), 'refused');
  assert.match(denials().at(-1)?.reason ?? '', /not allowed to publish/);
  const url = `rtmp://[::1]:${server.rtmpPort}/live/six?vhost=v6only`;
  assert.equal(await tryPublish(url), 'accepted', 'from ::1');
});

test('refer: play needs a page URL from the listed domain (ffmpeg sends pageUrl when playing)', async () => {
  const pub = publish(server.rtmpUrl('live/r?vhost=referred'), { seconds: 12, size: '160x120' });
  try {
    await server.waitForLog((l) => l.msg === 'publish started' && String(l.stream ?? '').includes('referred'), 15_000);
    const play = (extra: string[]) => run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...extra, '-i', server.rtmpUrl('live/r?vhost=referred'), '-t', '1', '-f', 'null', '-'], 20_000);
    const bad = play(['-rtmp_pageurl', 'http://evil.org/example.com']);
    assert.notEqual(await bad.done, 0, 'a page from another domain is refused');
    assert.match(denials().at(-1)?.reason ?? '', /refer/);
    const good = play(['-rtmp_pageurl', 'http://live.example.com/page.html']);
    assert.equal(await good.done, 0, good.stderr());
  } finally {
    await pub.stop();
  }
});

test('max_connections: the connection over the limit is refused with a log line', async () => {
  const small = await startServer({ config: 'listen {{RTMP}};\nmax_connections 2;\nsrs_log_tank console;\nvhost __defaultVhost__ {}\n' });
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const s = net.connect(small.rtmpPort, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      sockets.push(s);
    }
    await sleep(200);
    const third = net.connect(small.rtmpPort, '127.0.0.1');
    sockets.push(third);
    const closed = await Promise.race([new Promise((r) => third.once('close', () => r('closed'))), sleep(3000).then(() => 'open')]);
    assert.equal(closed, 'closed');
    const line = await small.waitForLog((l) => /max_connections/.test(l.msg));
    assert.equal(line.max, 2);
  } finally {
    for (const s of sockets) s.destroy();
    await small.stop();
  }
});
