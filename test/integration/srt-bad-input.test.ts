/**
 * Strangers on the SRT port: garbage datagrams, a flood of inductions,
 * conclusions with wrong cookies or versions, and a caller that completes
 * the handshake and vanishes. Each is dropped or ended with bounded log
 * lines; a real publisher is accepted afterwards.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { probe, run } from '../helpers/ffmpeg.js';
import { conclusion, induction } from '../helpers/srt-packets.js';
import { parsePacket } from '../../src/protocol/srt/srt-packet.js';
import { parseHandshake } from '../../src/protocol/srt/srt-handshake.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
srt_server { enabled on; listen {{SRT}}; peer_idle_timeout 1500; }
vhost __defaultVhost__ { srt { enabled on; } }
`;

let server: RunningServer;
let sock: dgram.Socket;

before(async () => {
  server = await startServer({ config: CONFIG });
  sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
});

after(async () => {
  sock?.close();
  await server?.stop();
});

function send(b: Buffer): Promise<void> {
  return new Promise((r) => sock.send(b, server.port('SRT'), '127.0.0.1', () => r()));
}

async function cookie(): Promise<number> {
  const reply = once(sock, 'message') as Promise<[Buffer]>;
  await send(induction());
  const [m] = await reply;
  const p = parsePacket(m);
  assert.ok(p.control);
  return parseHandshake(p.control ? p.body : Buffer.alloc(0)).cookie;
}

test('garbage, wrong cookies and versions, a flood of inductions: dropped, a few log lines, the server goes on', async () => {
  const before = server.logs.length;
  for (let i = 0; i < 3000; i++) {
    const junk = Buffer.alloc(1 + (i % 1400), i & 0xff);
    if (i % 3 === 0 && junk.length >= 4) junk.writeUInt32BE(0x80000000, 0); // a "handshake" to socket 0 that does not parse
    await send(junk);
  }
  for (let i = 0; i < 500; i++) await send(conclusion(i, '#!::r=live/x,m=publish'));
  const c = await cookie();
  await send(conclusion(c, '#!::r=live/x,m=publish', { version: 4 }));
  for (let i = 0; i < 3000; i++) void send(induction(1000 + i));
  await new Promise((r) => setTimeout(r, 500));
  const dropLines = server.logs.slice(before).filter((l) => l.msg === 'SRT: datagrams dropped');
  assert.ok(dropLines.length >= 1 && dropLines.length <= 3, `drop lines: ${dropLines.length}`);
  assert.equal(server.logs.slice(before).filter((l) => l.msg === 'SRT connection accepted').length, 0);
  // Still serving: a real publisher gets in.
  const pub = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-f', 'mpegts', `srt://127.0.0.1:${server.port('SRT')}?streamid=#!::r=live/ok,m=publish`], 40_000);
  try {
    const r = await probe(server.rtmpUrl('live/ok'), 2);
    assert.deepEqual(r.streams.map((s) => s.codec_name), ['h264']);
  } finally {
    await pub.stop();
  }
});

test('a caller that completes the handshake and vanishes is closed after peer_idle_timeout', async () => {
  const c = await cookie();
  const answer = once(sock, 'message') as Promise<[Buffer]>;
  await send(conclusion(c, '#!::r=live/ghost,m=publish'));
  const [m] = await answer;
  const p = parsePacket(m);
  assert.ok(p.control && parseHandshake(p.body).type === 0xffffffff, 'conclusion answered');
  const closed = await server.waitForLog((l) => l.msg === 'srt-publish session closed' && String(l['reason']).includes('peer_idle_timeout'), 10_000);
  assert.ok(closed);
});
