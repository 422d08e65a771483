/**
 * `stream_caster { caster flv; }`: FFmpeg POSTs FLV to
 * http://host:PORT/<app>/<stream>.flv and the stream `output` names (with
 * `[app]`/`[stream]` filled in) is watched over RTMP and HTTP-FLV; garbage
 * and a huge tag end their one request with a log line, the caster goes on.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { decodeFrames, monotonicDts, probe, run, type Proc } from '../helpers/ffmpeg.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
stream_caster { enabled on; caster flv; listen {{CASTER}}; output rtmp://127.0.0.1/[app]/[stream]; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  play { gop_cache on; }
  publish { firstpkt_timeout 2000; }
}
`;

let server: RunningServer;
let pub: Proc;

before(async () => {
  server = await startServer({ config: CONFIG });
  pub = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '25', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', `http://127.0.0.1:${server.port('CASTER')}/cast/posted.flv`], 90_000);
  await server.waitForLog((l) => l.msg === 'caster publish started', 20_000);
});

after(async () => {
  await pub?.stop();
  await server?.stop();
});

test('an FLV POST is published as [app]/[stream]: h264 + aac, 320x240 over RTMP, frames, monotonic dts', async () => {
  const r = await probe(server.rtmpUrl('cast/posted'), 3);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  const v = r.streams.find((s) => s.codec_type === 'video');
  assert.deepEqual([v?.width, v?.height], [320, 240]);
  assert.ok(r.packets.filter((p) => r.streams[p.stream_index]?.codec_type === 'video').length >= 40);
  const m = monotonicDts(r.packets);
  assert.ok(m.ok, m.detail);
});

test('the posted stream decodes over HTTP-FLV', async () => {
  const d = await decodeFrames(server.httpUrl('cast/posted.flv'), 3);
  assert.equal(d.code, 0, d.stderr.slice(-2000));
  assert.ok(d.frames >= 50, `frames decoded ${d.frames}`);
});

/** Sends a raw HTTP request and returns the status line the caster answered, or '' if it only closed. */
async function rawPost(path: string, body: Buffer, last = false): Promise<string> {
  const sock = net.connect(server.port('CASTER'), '127.0.0.1');
  await once(sock, 'connect');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', () => undefined); // a reset after the answer is fine
  // One write: a server that answers and closes before later writes arrive would reset the connection on them.
  sock.write(Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`), body, Buffer.from(last ? '\r\n0\r\n\r\n' : '\r\n')]));
  await closed;
  return got.split('\r\n')[0] ?? '';
}

test('garbage and a tag over the size limit end their request with a log line; the posted stream goes on', async () => {
  const garbage = await rawPost('/cast/junk.flv', Buffer.from('this is not an FLV stream at all, just text'.repeat(10)));
  assert.match(garbage, /^HTTP\/1.1 400/);
  const stopped = await server.waitForLog((l) => l.msg === 'caster publish stopped' && String(l['reason'] ?? '').includes('bad FLV'), 10_000);
  assert.match(String(stopped['reason']), /signature/);
  // A video tag that declares 15 MiB: refused from its header, nothing allocated for it.
  const header = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
  const hugeTag = Buffer.from([9, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x17, 0]);
  const huge = await rawPost('/cast/huge.flv', Buffer.concat([header, hugeTag]));
  assert.match(huge, /^HTTP\/1.1 400/);
  await server.waitForLog((l) => l.msg === 'caster publish stopped' && String(l['reason'] ?? '').includes('exceeds limit'), 10_000);
  const notFlv = await rawPost('/cast/nothing.mp4', Buffer.from('x'));
  assert.match(notFlv, /^HTTP\/1.1 404/);
  const r = await probe(server.rtmpUrl('cast/posted'), 2);
  assert.ok(r.packets.length > 20, 'the first POST still publishes');
});

test('a second POST to a stream being published is refused (409)', async () => {
  const header = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
  const status = await rawPost('/cast/posted.flv', header, true);
  assert.match(status, /^HTTP\/1.1 409/);
});

test('a POST that sends the FLV header and then nothing is closed after firstpkt_timeout', async () => {
  const sock = net.connect(server.port('CASTER'), '127.0.0.1');
  await once(sock, 'connect');
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', () => undefined);
  sock.resume();
  const header = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
  sock.write(Buffer.concat([Buffer.from(`POST /cast/silent.flv HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${header.length.toString(16)}\r\n`), header, Buffer.from('\r\n')]));
  const line = await server.waitForLog((l) => l.msg === 'caster publish stopped' && String(l['reason'] ?? '').includes('firstpkt_timeout'), 15_000);
  assert.equal(line['stream'], 'cast/silent');
  await closed;
});
