/**
 * The HTTP API against a running server, a real ffmpeg publisher of known
 * size and bitrate, and ffmpeg players over RTMP and HTTP-FLV: every field a
 * client reads, paging, errors, CORS, kicking, and API authentication.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, BASIC_CONFIG, type RunningServer } from '../helpers/server-process.js';
import { run, sleep, type Proc } from '../helpers/ffmpeg.js';

interface Kbps {
  recv_30s: number;
  send_30s: number;
}
interface StreamJson {
  id: string;
  name: string;
  vhost: string;
  app: string;
  tcUrl: string;
  url: string;
  live_ms: number;
  clients: number;
  frames: number;
  send_bytes: number;
  recv_bytes: number;
  kbps: Kbps;
  publish: { active: boolean; cid?: string };
  video: { codec: string; profile: string; level: string; width: number; height: number } | null;
  audio: { codec: string; sample_rate: number; channel: number; profile: string } | null;
}
interface ClientJson {
  id: string;
  vhost: string;
  stream: string;
  ip: string;
  url: string;
  name: string;
  type: string;
  publish: boolean;
  alive: number;
  send_bytes: number;
  recv_bytes: number;
  kbps: Kbps;
}

/** ffmpeg publishing 640x360 H.264 at ~500 kbit/s + AAC 64 kbit/s. */
function publishKnown(url: string, seconds: number): Proc {
  return run(
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
      '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '50', '-bf', '0',
      '-b:v', '500k', '-maxrate', '500k', '-bufsize', '250k', '-x264-params', 'nal-hrd=cbr',
      '-c:a', 'aac', '-b:a', '64k',
      '-f', 'flv', url,
    ],
    (seconds + 30) * 1000,
  );
}

function player(url: string, seconds: number): Proc {
  return run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-rw_timeout', '10000000', '-i', url, '-t', String(seconds), '-f', 'null', '-'], (seconds + 30) * 1000);
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  assert.equal(res.status, 200, `${url} → ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return (await res.json()) as T;
}

describe('API with a live stream', () => {
  let server: RunningServer;
  let publisher: Proc;
  let rtmpPlayer: Proc;
  let flvPlayer: Proc;

  before(async () => {
    server = await startServer();
    publisher = publishKnown(server.rtmpUrl('live/livestream'), 60);
    await server.waitForLog((l) => l.msg === 'publish started', 15_000);
    rtmpPlayer = player(server.rtmpUrl('live/livestream'), 60);
    flvPlayer = player(server.httpUrl('live/livestream.flv'), 60);
    await server.waitForLog((l) => l.msg === 'HTTP-FLV play started', 10_000);
    // The assertions below want > 10 s of traffic (frames >= 200 at 25 fps): wait for the frames, not the clock.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { streams } = await getJson<{ streams: StreamJson[] }>(server.apiUrl('api/v1/streams/'));
      if ((streams.find((x) => x.url === '/live/livestream')?.frames ?? 0) >= 250 || Date.now() > deadline) break;
      await sleep(250);
    }
  });

  after(async () => {
    await Promise.all([publisher?.stop(), rtmpPlayer?.stop(), flvPlayer?.stop()]);
    await server?.stop();
  });

  test('streams: name, app, codecs, resolution, clients, frames, bitrate', async () => {
    const body = await getJson<{ code: number; server: string; service: string; pid: string; streams: StreamJson[] }>(server.apiUrl('api/v1/streams/'));
    assert.equal(body.code, 0);
    assert.match(body.server, /^vid-[0-9a-z]{7}$/);
    assert.match(body.service, /^[0-9a-z]{8}$/);
    assert.equal(body.pid, String(server.proc.pid));
    assert.equal(body.streams.length, 1);
    const s = body.streams[0]!;
    assert.match(s.id, /^vid-[0-9a-z]{7}$/);
    assert.equal(s.name, 'livestream');
    assert.equal(s.app, 'live');
    assert.equal(s.url, '/live/livestream');
    assert.match(s.tcUrl, /^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
    assert.ok(Math.abs(s.live_ms - Date.now()) < 5000, 'live_ms is the server clock');
    assert.equal(s.clients, 3, 'publisher + two players');
    assert.ok(s.frames >= 200, `frames ${s.frames} after >10 s at 25 fps`);
    assert.equal(s.publish.active, true);
    assert.match(s.publish.cid ?? '', /^[0-9a-z]{8}$/);
    assert.deepEqual({ codec: s.video?.codec, width: s.video?.width, height: s.video?.height }, { codec: 'H264', width: 640, height: 360 });
    assert.ok(s.video!.profile.length > 0 && s.video!.profile !== 'Other', `profile ${s.video!.profile}`);
    assert.match(s.video!.level, /^\d(\.\d)?$/);
    assert.deepEqual(s.audio, { codec: 'AAC', sample_rate: 44100, channel: 1, profile: 'LC' });
    // ~500k video + 64k audio + FLV/RTMP overhead.
    assert.ok(s.kbps.recv_30s > 380 && s.kbps.recv_30s < 800, `recv_30s ${s.kbps.recv_30s} kbit/s for a ~564 kbit/s publish`);
    assert.ok(s.kbps.send_30s > s.kbps.recv_30s * 1.4, `two players: send ${s.kbps.send_30s} vs recv ${s.kbps.recv_30s}`);
    assert.ok(s.recv_bytes > 400_000 && s.send_bytes > s.recv_bytes, `bytes recv ${s.recv_bytes} send ${s.send_bytes}`);

    // The vhost object it points to.
    const v = await getJson<{ vhost: { id: string; name: string; enabled: boolean; clients: number; streams: number; kbps: Kbps } }>(server.apiUrl(`api/v1/vhosts/${s.vhost}`));
    assert.equal(v.vhost.name, '__defaultVhost__');
    assert.equal(v.vhost.enabled, true);
    assert.equal(v.vhost.streams, 1);
    assert.equal(v.vhost.clients, 3);
    assert.ok(v.vhost.kbps.recv_30s > 300);
    const one = await getJson<{ stream: StreamJson }>(server.apiUrl(`api/v1/streams/${s.id}`));
    assert.equal(one.stream.id, s.id);
  });

  test('clients: types, ids, stream links, bitrates; single client', async () => {
    const streams = await getJson<{ streams: StreamJson[] }>(server.apiUrl('api/v1/streams/'));
    const sid = streams.streams[0]!.id;
    const body = await getJson<{ code: number; clients: ClientJson[] }>(server.apiUrl('api/v1/clients/'));
    assert.equal(body.code, 0);
    const byType = new Map(body.clients.map((c) => [c.type, c]));
    assert.deepEqual([...byType.keys()].sort(), ['flv-play', 'fmle-publish', 'rtmp-play']);
    for (const c of body.clients) {
      assert.match(c.id, /^[0-9a-z]{8}$/);
      assert.equal(c.stream, sid);
      assert.equal(c.url, '/live/livestream');
      assert.match(c.ip, /127\.0\.0\.1/);
      assert.ok(c.alive > 5, `alive ${c.alive}`);
    }
    const pub = byType.get('fmle-publish')!;
    assert.equal(pub.publish, true);
    assert.equal(pub.id, streams.streams[0]!.publish.cid);
    assert.ok(pub.kbps.recv_30s > 380 && pub.kbps.recv_30s < 800, `publisher recv ${pub.kbps.recv_30s}`);
    const flv = byType.get('flv-play')!;
    assert.equal(flv.publish, false);
    assert.equal(flv.name, 'livestream.flv');
    assert.ok(flv.kbps.send_30s > 300, `player send ${flv.kbps.send_30s}`);
    assert.equal(byType.get('rtmp-play')!.name, 'livestream');
    const one = await getJson<{ client: ClientJson }>(server.apiUrl(`api/v1/clients/${pub.id}`));
    assert.equal(one.client.type, 'fmle-publish');
  });

  test('paging: start/count as SRS (count below 10 means 10), ordered by id', async () => {
    const all = await getJson<{ clients: ClientJson[] }>(server.apiUrl('api/v1/clients/'));
    const ids = all.clients.map((c) => c.id);
    assert.deepEqual(ids, [...ids].sort());
    const small = await getJson<{ clients: ClientJson[] }>(server.apiUrl('api/v1/clients/?start=0&count=1'));
    assert.equal(small.clients.length, 3);
    const skip = await getJson<{ clients: ClientJson[] }>(server.apiUrl('api/v1/clients/?start=1'));
    assert.deepEqual(skip.clients.map((c) => c.id), ids.slice(1));
    const past = await getJson<{ clients: ClientJson[] }>(server.apiUrl('api/v1/clients/?start=10&count=10'));
    assert.equal(past.clients.length, 0);
    const s = await getJson<{ streams: StreamJson[] }>(server.apiUrl('api/v1/streams/?start=1'));
    assert.equal(s.streams.length, 0);
  });

  test('summaries and process figures are true', async () => {
    const body = await getJson<{ data: { ok: boolean; now_ms: number; self: Record<string, number | string>; system: Record<string, number> } }>(server.apiUrl('api/v1/summaries'));
    assert.equal(body.data.ok, true);
    assert.equal(body.data.self.pid, server.proc.pid);
    assert.ok((body.data.self.srs_uptime as number) >= 10);
    assert.ok((body.data.self.mem_kbyte as number) > 20_000, `mem ${body.data.self.mem_kbyte} kB`);
    assert.equal(typeof body.data.self.cpu_percent, 'number');
    assert.ok((body.data.self.cpu_percent as number) > 0, 'serving 3 clients costs some CPU');
    assert.ok(body.data.system.conn_srs >= 3);
    assert.ok(body.data.system.srs_recv_bytes > 400_000);
    assert.ok(body.data.system.mem_ram_kbyte > 0);
    const proc = await getJson<{ data: { ok: boolean; pid: number; comm: string; rss: number } }>(server.apiUrl('api/v1/self_proc_stats'));
    assert.equal(proc.data.ok, true);
    assert.equal(proc.data.pid, server.proc.pid);
    assert.ok(proc.data.rss > 0);
    const mem = await getJson<{ data: { ok: boolean; MemTotal: number } }>(server.apiUrl('api/v1/meminfos'));
    assert.ok(mem.data.MemTotal > 0);
    const v = await getJson<{ data: { version: string } }>(server.apiUrl('api/v1/versions'));
    assert.match(v.data.version, /^\d+\.\d+\.\d+$/);
    for (const p of ['rusages', 'system_proc_stats', 'authors', 'features', 'tests/requests']) {
      const b = await getJson<{ code: number; data: unknown }>(server.apiUrl(`api/v1/${p}`));
      assert.equal(b.code, 0, p);
      assert.ok(b.data, p);
    }
  });

  test('errors: SRS codes for bad ids, 404 text for unknown paths, 405, JSONP, CORS', async () => {
    assert.deepEqual(await getJson(server.apiUrl('api/v1/streams/vid-nothere')), { code: 2048 });
    assert.deepEqual(await getJson(server.apiUrl('api/v1/clients/nothere1')), { code: 2049 });
    assert.deepEqual(await getJson(server.apiUrl('api/v1/vhosts/vid-nothere')), { code: 2014 });
    assert.deepEqual(await getJson(server.apiUrl('api/v1/clients/nothere1'), { method: 'DELETE' }), { code: 2049 });
    assert.deepEqual(await getJson(server.apiUrl('api/v1/tests/errors')), { code: 100 });
    const nf = await fetch(server.apiUrl('no/such/path'));
    assert.equal(nf.status, 404);
    assert.equal(await nf.text(), 'Not Found');
    const na = await fetch(server.apiUrl('api/v1/streams/'), { method: 'DELETE' });
    assert.equal(na.status, 405);
    const idx = await getJson<{ urls: Record<string, string> }>(server.apiUrl('api/v1/whatever'));
    assert.ok(idx.urls.streams);
    const redirect = await fetch(server.apiUrl('api/v1/streams'), { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/api/v1/streams/');
    const jsonp = await fetch(server.apiUrl('api/v1/versions?callback=cb'));
    assert.match(await jsonp.text(), /^cb\(\{"code":0,.*\}\)$/);
    const cors = await fetch(server.apiUrl('api/v1/versions'), { headers: { Origin: 'http://example.com' } });
    assert.equal(cors.headers.get('access-control-allow-origin'), '*');
    const pre = await fetch(server.apiUrl('api/v1/clients/x'), { method: 'OPTIONS', headers: { Origin: 'http://example.com' } });
    assert.equal(pre.status, 200);
    // Hostile input: nothing crashes the server.
    for (const p of ['api/v1/streams/%ff', 'api/v1/clients/' + 'x'.repeat(5000), 'api/v1/clients/?start=1e400&count=-1', 'api/v1/raw?rpc=reload']) {
      const r = await fetch(server.apiUrl(p));
      assert.ok(r.status < 500, `${p} → ${r.status}`);
    }
    const still = await getJson<{ code: number }>(server.apiUrl('api/v1/versions'));
    assert.equal(still.code, 0);
  });

  test('kick: DELETE a player and then the publisher; ffmpeg exits, the stream ends', async () => {
    const { clients } = await getJson<{ clients: ClientJson[] }>(server.apiUrl('api/v1/clients/'));
    const rtmp = clients.find((c) => c.type === 'rtmp-play')!;
    const kicked = await getJson<{ code: number; server: string }>(server.apiUrl(`api/v1/clients/${rtmp.id}`), { method: 'DELETE' });
    assert.equal(kicked.code, 0);
    assert.ok(kicked.server);
    const code = await Promise.race([rtmpPlayer.done, sleep(15_000).then(() => 'still running')]);
    assert.notEqual(code, 'still running', 'the kicked RTMP player exits');
    const after1 = await getJson<{ clients: ClientJson[] }>(server.apiUrl('api/v1/clients/'));
    assert.equal(after1.clients.find((c) => c.id === rtmp.id), undefined);

    const pub = clients.find((c) => c.type === 'fmle-publish')!;
    await getJson(server.apiUrl(`api/v1/clients/${pub.id}?callback=x&method=DELETE`).replace('callback=x&', ''), { method: 'DELETE' });
    const pcode = await Promise.race([publisher.done, sleep(15_000).then(() => 'still running')]);
    assert.notEqual(pcode, 'still running', 'the kicked publisher (ffmpeg) exits');
    // The server may see the close a moment after ffmpeg exits: wait for the API to say it.
    const deadline = Date.now() + 10_000;
    let s = await getJson<{ streams: StreamJson[] }>(server.apiUrl('api/v1/streams/'));
    while (s.streams.some((x) => x.publish.active) && Date.now() < deadline) {
      await sleep(100);
      s = await getJson<{ streams: StreamJson[] }>(server.apiUrl('api/v1/streams/'));
    }
    assert.ok(s.streams.every((x) => x.publish.active === false), JSON.stringify(s.streams));
  });
});

describe('API authentication', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({
      config: BASIC_CONFIG.replace(
        'http_api { enabled on; listen {{API}}; }',
        'http_api { enabled on; listen {{API}}; auth { enabled on; username admin; password s3cret; token full-tok; readonly_token ro-tok; } }',
      ),
    });
  });
  after(async () => server?.stop());

  test('401 without or with wrong credentials, no detail; Basic and bearer work; read-only cannot kick', async () => {
    const none = await fetch(server.apiUrl('api/v1/streams/'));
    assert.equal(none.status, 401);
    assert.equal(await none.text(), '');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic/);
    const wrong = await fetch(server.apiUrl('api/v1/streams/'), { headers: { Authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(server.apiUrl('api/v1/streams/'), { headers: { Authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` } });
    assert.equal(ok.status, 200);
    const ro = await fetch(server.apiUrl('api/v1/clients/'), { headers: { Authorization: 'Bearer ro-tok' } });
    assert.equal(ro.status, 200);
    const roKick = await fetch(server.apiUrl('api/v1/clients/abcdefgh'), { method: 'DELETE', headers: { Authorization: 'Bearer ro-tok' } });
    assert.equal(roKick.status, 403);
    const fullKick = await fetch(server.apiUrl('api/v1/clients/abcdefgh'), { method: 'DELETE', headers: { Authorization: 'Bearer full-tok' } });
    assert.deepEqual(await fullKick.json(), { code: 2049 });
    // Not under /api/: never guarded (console, metrics endpoint).
    const consolePage = await fetch(server.apiUrl('console/'));
    assert.equal(consolePage.status, 200);
  });
});
