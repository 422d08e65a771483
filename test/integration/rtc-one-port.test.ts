/**
 * One UDP port for every peer: garbage datagrams (random bytes, STUN for
 * unknown users, DTLS- and RTP-looking junk) are sent to the port first, then
 * several WHEP players of an RTMP stream all connect to that same port and
 * receive video and Opus audio.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startServer } from '../helpers/server-process.js';
import { freePort } from '../helpers/ports.js';
import { publish, sleep } from '../helpers/ffmpeg.js';
import { rtcConfig, until } from '../helpers/rtc-browser.js';
import { ndcWhep, type NdcPlayer } from '../helpers/rtc-ndc-client.js';
import { nativeRelay, NativeGatewaySockets } from '../../src/servers/webrtc/native-gateway-sockets.js';

function garbage(i: number): Buffer {
  const b = Buffer.alloc(20 + (i % 180));
  for (let k = 0; k < b.length; k++) b[k] = (k * 31 + i * 17) & 0xff;
  switch (i % 4) {
    case 0: // STUN binding request with an unknown username
      b[0] = 0;
      b[1] = 1;
      b.writeUInt16BE(0, 2);
      b.writeUInt32BE(0x2112a442, 4);
      return b.subarray(0, 20);
    case 1:
      b[0] = 22; // DTLS handshake-looking
      return b;
    case 2:
      b[0] = 0x80; // RTP-looking
      return b;
    default:
      return b;
  }
}

test('garbage on the one UDP port is ignored; every peer uses that port and gets media', { timeout: 60_000 }, async () => {
  const rtcPort = await freePort();
  const server = await startServer({ config: rtcConfig(rtcPort, 'rtc { enabled on; rtmp_to_rtc on; }') });
  const ff = publish(server.rtmpUrl('live/oneport'), { seconds: 25, gop: 25 });
  const players: NdcPlayer[] = [];
  const sock = dgram.createSocket('udp4');
  try {
    await server.waitForLog((l) => l.msg === 'publish started', 10_000);
    for (let i = 0; i < 400; i++) sock.send(garbage(i), rtcPort, '127.0.0.1');
    await sleep(200);
    for (let i = 0; i < 4; i++) players.push(await ndcWhep(server.apiUrl('rtc/v1/whep/?app=live&stream=oneport')).catch((e: Error) => { throw new Error(`player ${i}: ${e.message}`); }));
    // More garbage while the sessions run.
    for (let i = 400; i < 800; i++) sock.send(garbage(i), rtcPort, '127.0.0.1');
    await until(async () => players, (ps) => ps.every((p) => p.video.packets > 50 && p.audio.packets > 20), 20_000);
    for (const p of players) {
      assert.ok(p.video.packets > 50, `video packets ${p.video.packets}`);
      assert.ok(p.audio.packets > 20, `audio packets ${p.audio.packets}`);
      const pair = p.pc.getSelectedCandidatePair();
      assert.equal(pair?.remote.port, rtcPort, 'the server side of every peer is the one port');
    }
  } finally {
    sock.close();
    for (const p of players) p.close();
    await ff.stop();
    await server.stop();
  }
});

test('a WebRTC UDP port held by another process: the server runs on and refuses offers with 5021', { timeout: 30_000 }, async () => {
  const rtcPort = await freePort();
  const holder = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  await new Promise<void>((resolve) => holder.bind({ port: rtcPort, address: '::', exclusive: true }, resolve));
  // The holder closes whatever happens, or its socket would keep this test file's process alive.
  const server = await startServer({ config: rtcConfig(rtcPort, 'rtc { enabled on; rtmp_to_rtc on; }') }).catch((err: unknown) => {
    holder.close();
    throw err;
  });
  try {
    await server.waitForLog((l) => /WebRTC UDP port unavailable/.test(String(l.msg)), 10_000);
    const r = await fetch(server.apiUrl('rtc/v1/whep/?app=live&stream=busyport'), { method: 'POST', body: 'v=0\r\n' });
    const body = await r.text();
    assert.notEqual(r.status, 201);
    assert.match(body, /5021|unavailable/, body);
    const flv = await fetch(server.apiUrl('api/v1/versions'));
    assert.equal(flv.status, 200, 'the rest of the server goes on');
  } finally {
    holder.close();
    await server.stop();
  }
});

/**
 * What another Sluice's workers hold: the port (on `address`, every address by default), bound with
 * SO_REUSEPORT, which any later socket of this user could join. This server, started with
 * --workers 2 and `rtcExtra` in rtc_server, must not join it: offers get 5021, nothing is stolen.
 */
async function portHeldByOtherWorkers(address: string | undefined, rtcExtra: string): Promise<void> {
  const rtcPort = await freePort();
  const r = nativeRelay();
  assert.ok('binding' in r, 'the native relay is built on Linux');
  const holder = new NativeGatewaySockets(r.binding);
  let stolen = 0;
  await holder.listen(rtcPort, address, true, () => stolen++, 9);
  const server = await startServer({ config: rtcConfig(rtcPort, 'rtc { enabled on; rtmp_to_rtc on; }', rtcExtra), args: ['--workers', '2'] }).catch((err: unknown) => {
    holder.close();
    throw err;
  });
  try {
    await server.waitForLog((l) => /WebRTC UDP port in use by another process/.test(String(l.msg)), 15_000);
    await until(async () => server.logs.filter((l) => /WebRTC UDP port unavailable/.test(String(l.msg))).length, (n) => n >= 2, 20_000);
    const res = await fetch(server.apiUrl('rtc/v1/whep/?app=live&stream=busyport'), { method: 'POST', body: 'v=0\r\n' });
    const body = await res.text();
    assert.notEqual(res.status, 201);
    assert.match(body, /5021|unavailable/, body);
    assert.equal((await fetch(server.apiUrl('api/v1/versions'))).status, 200, 'the rest of the server goes on');
    assert.equal(stolen, 0);
  } finally {
    holder.close();
    await server.stop();
  }
}

test('--workers: a WebRTC UDP port another server\'s workers hold (SO_REUSEPORT) is not joined: offers get 5021', { timeout: 60_000, skip: process.platform !== 'linux' }, async () => {
  await portHeldByOtherWorkers(undefined, '');
});

test('--workers with protocol tcp: the loopback UDP port the workers\' gateway needs, held by another server, is not joined: offers get 5021', { timeout: 60_000, skip: process.platform !== 'linux' }, async () => {
  await portHeldByOtherWorkers('127.0.0.1', 'protocol tcp; tcp { enabled on; listen {{RTC_TCP}}; }');
});
