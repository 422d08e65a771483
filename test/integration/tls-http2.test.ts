/**
 * HTTP/2 on the HTTPS port (ALPN h2 next to HTTP/1.1): LL-HLS (playlist,
 * blocking reload, init, parts), HTTP-FLV, HTTP-TS, static files and the API over h2
 * with Node's http2 client and curl (HTTP-FLV written by curl, decoded by
 * ffprobe); HTTP/1.1 clients (ffprobe) on the same port; `http2 off` offers
 * HTTP/1.1 only. The browser side (hls.js and WHEP over h2, WSS-FLV) is in
 * tls-browser.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import tls from 'node:tls';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { execFile } from 'node:child_process';
import { probe, publish, type Proc } from '../helpers/ffmpeg.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

let ca: TestCa;
let server: RunningServer;
let pub: Proc;
let h2: http2.ClientHttp2Session;

function config(key: string, cert: string, extra: string): string {
  return `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{HTTP}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; https { enabled on; listen {{HTTPS}}; key ${key}; cert ${cert}; ${extra} } }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  hls { enabled on; hls_ll on; hls_fragment 1; hls_part_duration 0.25; hls_window 10; hls_ctx off; hls_path ./html; }
  play { gop_cache on; }
}
`;
}

before(async () => {
  ca = makeTestCa();
  const c = ca.issue('server', ['sluice.test']);
  server = await startServer({ config: config(c.key, c.cert, '') });
  mkdirSync(join(server.dir, 'html'), { recursive: true });
  writeFileSync(join(server.dir, 'html', 'hello.txt'), 'hello over h2\n');
  pub = publish(server.rtmpUrl('live/s'), { seconds: 60, gop: 25 });
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
  h2 = http2.connect(`https://127.0.0.1:${server.port('HTTPS')}`, { ca: readFileSync(ca.caCert) });
  h2.on('error', () => undefined);
});

after(async () => {
  h2?.close();
  await pub?.stop();
  await server?.stop();
  ca?.remove();
});

interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

/** One GET on the shared h2 session; `maxBytes` ends an endless body (HTTP-FLV) once that much arrived. */
function get(path: string, maxBytes = Infinity): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = h2.request({ ':path': path });
    const chunks: Buffer[] = [];
    let size = 0;
    let headers: http2.IncomingHttpHeaders = {};
    const done = (): void => resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks), ms: Date.now() - t0 });
    s.on('response', (h) => (headers = h));
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      if (size >= maxBytes) {
        s.close(http2.constants.NGHTTP2_CANCEL);
        done();
      }
    });
    s.on('end', done);
    s.on('error', reject);
    s.end();
  });
}

/** curl's `%{http_version} %{http_code}` for a URL on the HTTPS port (by the name in the test certificate). */
function curl(port: number, path: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '--cacert', ca.caCert, '-w', '%{http_version} %{http_code}', ...args, `https://localhost:${port}${path}`], { timeout: 20_000 }, (_err, stdout) => resolve(stdout.trim()));
  });
}

function hint(playlist: string): { msn: number; part: number } {
  const m = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="s-(\d+)\.(\d+)\.m4s"/.exec(playlist);
  assert.ok(m, playlist);
  return { msn: Number(m[1]), part: Number(m[2]) };
}

test('the HTTPS port negotiates h2 by ALPN', async () => {
  await new Promise<void>((resolve, reject) => {
    if (h2.alpnProtocol !== undefined) return resolve();
    h2.once('connect', () => resolve());
    h2.once('error', reject);
  });
  assert.equal(h2.alpnProtocol, 'h2');
});

test('LL-HLS over h2: playlist, blocking reload, init and parts', { timeout: 60_000 }, async () => {
  let text = '';
  assert.ok(
    await waitFor(async () => {
      const r = await get('/live/s.m3u8');
      text = r.body.toString();
      return r.status === 200 && [...text.matchAll(/#EXT-X-PART:DURATION=/g)].length >= 4;
    }, 30_000, 200),
    `playlist over h2: ${text}`,
  );
  assert.match(text, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES/);
  const init = await get('/live/s-init.mp4');
  assert.equal(init.status, 200);
  assert.equal(init.body.toString('latin1', 4, 8), 'ftyp');
  // Blocking reload: the next part's playlist is held on its stream while other streams of the session go on.
  const h = hint(text);
  const [held, other] = await Promise.all([get(`/live/s.m3u8?_HLS_msn=${h.msn}&_HLS_part=${h.part}`), get('/hello.txt')]);
  assert.equal(held.status, 200);
  assert.ok(held.body.toString().includes(`URI="s-${h.msn}.${h.part}.m4s"`) || held.body.toString().includes(`s-${h.msn}.m4s`), held.body.toString());
  assert.ok(held.ms < 2500, `held ${held.ms} ms`);
  assert.equal(other.body.toString(), 'hello over h2\n');
  const next = hint(held.body.toString());
  const part = await get(`/live/s-${next.msn}.${next.part}.m4s`);
  assert.equal(part.status, 200);
  assert.equal(part.body.toString('latin1', 4, 8), 'moof');
  const seg = /(s-\d+\.m4s)\n/.exec(held.body.toString());
  assert.ok(seg, held.body.toString());
  const whole = await get(`/live/${seg[1]}`);
  assert.equal(whole.status, 200);
  assert.equal(whole.body.toString('latin1', 4, 8), 'moof');
});

test('HTTP-FLV over h2: curl --http2 writes a stream that ffprobe decodes', { timeout: 60_000 }, async () => {
  const file = join(server.dir, 'h2.flv');
  // --max-time ends the endless body (curl then exits 28, with what it wrote kept).
  assert.equal(await curl(server.port('HTTPS'), '/live/s.flv', ['--http2', '--max-time', '4', '-o', file]), '2 200');
  const p = await probe(file, 10);
  const vi = p.streams.findIndex((s) => s.codec_type === 'video');
  assert.equal(p.streams[vi]?.codec_name, 'h264');
  assert.ok(p.streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac'));
  const frames = p.packets.filter((k) => k.stream_index === vi).length;
  assert.ok(frames > 40, `${frames} video packets in 4 s`);
  // The FLV stream is one of many on its session: the API answers on a second stream of the same session meanwhile.
  const [flv, api] = await Promise.all([get('/live/s.flv', 200_000), get('/api/v1/versions')]);
  assert.equal(flv.headers['content-type'], 'video/x-flv');
  assert.equal(flv.body.toString('latin1', 0, 3), 'FLV');
  assert.equal(api.status, 200);
  assert.equal((JSON.parse(api.body.toString()) as { code: number }).code, 0);
  // The other remuxes go through the response too: HTTP-TS (188-byte packets, sync byte 0x47).
  const ts = await get('/live/s.ts', 188 * 200);
  assert.equal(ts.status, 200);
  assert.equal(ts.headers['content-type'], 'video/MP2T');
  for (let i = 0; i + 188 <= ts.body.length; i += 188) assert.equal(ts.body[i], 0x47, `TS packet at ${i}`);
});

/** An FLV stream on the shared h2 session that stays open; `bytes()` is what has arrived so far. */
function openFlv(path: string): { bytes: () => number; close: () => void } {
  const s = h2.request({ ':path': path });
  let size = 0;
  s.on('data', (d: Buffer) => (size += d.length));
  s.on('error', () => undefined);
  s.end();
  return { bytes: () => size, close: () => s.close(http2.constants.NGHTTP2_CANCEL) };
}

interface ApiClient {
  type: string;
  alive: number;
  send_bytes: number;
}

test('two HTTP-FLV players on one h2 connection: the API counts each stream\'s bytes, not the connection\'s', { timeout: 60_000 }, async () => {
  const a = openFlv('/live/s.flv');
  try {
    assert.ok(await waitFor(() => a.bytes() > 300_000, 30_000), `first player: ${a.bytes()} bytes`);
    const b = openFlv('/live/s.flv');
    try {
      assert.ok(await waitFor(() => b.bytes() > 50_000, 30_000), `second player: ${b.bytes()} bytes`);
      const api = await get('/api/v1/clients/');
      const players = (JSON.parse(api.body.toString()) as { clients: ApiClient[] }).clients.filter((c) => c.type === 'flv-play').sort((x, y) => y.alive - x.alive);
      assert.equal(players.length, 2, JSON.stringify(players));
      const [first, second] = [players[0]!, players[1]!];
      const got = [a.bytes(), b.bytes()];
      // Each count is at least what its player read (less the window still in flight) and at most that plus what h2 may hold unsent.
      for (const [p, read] of [[first, got[0]!], [second, got[1]!]] as const) {
        assert.ok(p.send_bytes >= read * 0.5 && p.send_bytes <= read + 512 * 1024, `send_bytes ${p.send_bytes} for a player that read ${read}`);
      }
      assert.ok(first.send_bytes - second.send_bytes > 150_000, `the older player has more: ${first.send_bytes} against ${second.send_bytes} (one connection's count would give both the same)`);
    } finally {
      b.close();
    }
  } finally {
    a.close();
  }
});

test('HTTP/1.1 clients on the same port: ffprobe reads HLS and FLV', { timeout: 60_000 }, async () => {
  const flv = await probe(`https://127.0.0.1:${server.port('HTTPS')}/live/s.flv`, 2);
  assert.equal(flv.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
  assert.equal(await curl(server.port('HTTPS'), '/live/s.m3u8', ['--http1.1', '-o', '/dev/null']), '1.1 200');
});

test('garbage after the h2 preface ends that connection only; the port goes on serving', { timeout: 30_000 }, async () => {
  const socket = tls.connect({ host: '127.0.0.1', port: server.port('HTTPS'), ALPNProtocols: ['h2'], ca: readFileSync(ca.caCert), servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  assert.equal(socket.alpnProtocol, 'h2');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  // The client preface, then a frame header claiming a 16 MiB HEADERS frame on stream 0 and junk.
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0xff, 0xff, 0xff, 0x01, 0x04, 0, 0, 0, 0]), Buffer.alloc(64, 0xab)]));
  await closed;
  const api = await get('/api/v1/versions');
  assert.equal(api.status, 200);
});

test('http2 off: the HTTPS port answers HTTP/1.1 to a client that asks for h2', { timeout: 60_000 }, async () => {
  const c = ca.issue('plain', ['sluice.test']);
  const plain = await startServer({ config: config(c.key, c.cert, 'http2 off;') });
  try {
    assert.equal(await curl(plain.port('HTTPS'), '/api/v1/versions', ['--http2', '-o', '/dev/null']), '1.1 200');
  } finally {
    await plain.stop();
  }
});
