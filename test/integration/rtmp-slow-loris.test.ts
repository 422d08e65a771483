/**
 * Slow-loris on RTMP (issue 11 item 4): a peer trickling one byte every
 * second never finishes its handshake. It is cut by the 10 s pre-auth
 * deadline, and with max_connections small, such peers can hold only half
 * of it: an established player keeps decoding, the API and an HTTP-FLV
 * player still get in.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { decodeFrames, publish, probe, type Proc } from '../helpers/ffmpeg.js';

let server: RunningServer;
let publisher: Proc;
const lorises: net.Socket[] = [];

before(async () => {
  server = await startServer({
    config: `listen {{RTMP}};
max_connections 10;
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ { http_remux { enabled on; mount [vhost]/[app]/[stream].flv; } play { gop_cache on; } }`,
  });
  publisher = publish(server.rtmpUrl('live/loris'), { seconds: 90, size: '160x120', fps: 25, gop: 25 });
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
});

after(async () => {
  for (const s of lorises) s.destroy();
  await publisher?.stop();
  await server?.stop();
});

interface Loris {
  socket: net.Socket;
  /** Resolves with how long the socket lived (ms) once the server closed it. */
  closed: Promise<number>;
}

/** A peer that sends C0 and then one byte a second, never a whole handshake. */
function loris(port: number): Loris {
  const socket = net.connect(port, '127.0.0.1');
  lorises.push(socket);
  const started = Date.now();
  let timer: NodeJS.Timeout | null = null;
  socket.on('connect', () => {
    socket.write(Buffer.from([0x03]));
    timer = setInterval(() => socket.write(Buffer.from([0])), 1000);
  });
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      if (timer) clearInterval(timer);
      resolve(Date.now() - started);
    }),
  );
  return { socket, closed };
}

test('trickling pre-auth peers are held to half of max_connections and cut by the deadline; players and the API go on', { timeout: 120_000 }, async () => {
  // An established RTMP player, decoding while the attack runs.
  const player = decodeFrames(server.rtmpUrl('live/loris'), 16);
  await server.waitForLog((l) => l.msg === 'play started', 20_000);

  const refusedBefore = server.logs.filter((l) => l.msg.startsWith('connection refused: unauthenticated')).length;
  const peers = Array.from({ length: 12 }, () => loris(server.rtmpPort));
  // max_connections 10 → 5 unauthenticated at most: 7 of 12 are refused at once.
  const refusedLog = (): number => server.logs.filter((l) => l.msg.startsWith('connection refused: unauthenticated')).length - refusedBefore;
  await server.waitForLog(() => refusedLog() >= 7, 15_000);
  assert.equal(refusedLog(), 7, 'exactly the peers beyond the pre-auth budget are refused');

  // The API and an HTTP-FLV player still get in while the budget is full.
  const api = await fetch(server.apiUrl('api/v1/summaries'));
  assert.equal(api.status, 200);
  const flv = await probe(server.httpUrl('live/loris.flv'), 2);
  assert.ok(flv.streams.some((s) => s.codec_type === 'video'), 'HTTP-FLV player gets video during the attack');

  // Every trickling peer ends: refused at once, or cut by the deadline about 10 s in
  // although it never went quiet (the old idle timer never fired).
  const lifetimes = await Promise.all(peers.map((p) => p.closed));
  const held = lifetimes.filter((ms) => ms >= 5000);
  assert.equal(held.length, 5, `lifetimes ${lifetimes.join(', ')}`);
  for (const ms of held) assert.ok(ms >= 9000 && ms < 30_000, `a held peer lived ${ms} ms`);
  const cut = (): number => server.logs.filter((l) => l.msg === 'RTMP session closing' && String(l['reason']).startsWith('no publish or play within')).length;
  await server.waitForLog(() => cut() >= 5, 10_000).catch(() => undefined);
  assert.equal(cut(), 5, 'the server says why it closed them');

  // The established player was not disturbed.
  const r = await player;
  assert.ok(r.frames >= 200, `the RTMP player decoded ${r.frames} frames in 16 s: ${r.stderr.slice(-400)}`);
});
