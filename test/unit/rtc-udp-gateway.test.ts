/**
 * The UDP gateway between clients and libjuice, with real sockets: a plain
 * UDP socket stands where libjuice listens (the gateway only relays to it),
 * clients send checks built independently (test/helpers/stun-request.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { RtcUdpGateway } from '../../src/servers/webrtc/rtc-udp-gateway.js';
import { nativeRelay, NativeGatewaySockets } from '../../src/servers/webrtc/native-gateway-sockets.js';
import { bindingSuccess, parseStun, verifyIntegrity } from '../../src/protocol/stun/stun-message.js';
import { silentLogger } from '../../src/log/logger.js';
import { bindingRequest, xorMappedAddress } from '../helpers/stun-request.js';

const PWD = 'gatewayPassword0123456789';

interface Sock {
  s: dgram.Socket;
  port: number;
  got: { msg: Buffer; port: number; address: string }[];
}

async function sock(): Promise<Sock> {
  const s = dgram.createSocket('udp4');
  const o: Sock = { s, port: 0, got: [] };
  s.on('message', (msg, r) => o.got.push({ msg, port: r.port, address: r.address }));
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  o.port = (s.address() as AddressInfo).port;
  return o;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
}

function rtp(seq: number): Buffer {
  const b = Buffer.alloc(100, 0xab);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq, 2);
  return b;
}

test('UDP gateway: the native relay is built by npm install and used (Linux)', { skip: process.platform !== 'linux' }, async () => {
  const r = nativeRelay();
  assert.ok('binding' in r, `native relay: ${'error' in r ? r.error : ''}`);
  const gw = new RtcUdpGateway(silentLogger());
  await gw.listen(0, 9);
  try {
    assert.equal(gw.relayKind, 'native');
  } finally {
    gw.close();
  }
});

test('native relay, --workers: two relays share the port (SO_REUSEPORT), a client stays on one of them, an exclusive bind is refused', { skip: process.platform !== 'linux' }, async () => {
  const r = nativeRelay();
  assert.ok('binding' in r);
  const got = [0, 0];
  const a = new NativeGatewaySockets(r.binding);
  const b = new NativeGatewaySockets(r.binding);
  const alone = new NativeGatewaySockets(r.binding);
  const client = dgram.createSocket('udp4');
  try {
    await a.listen(0, '127.0.0.1', true, () => got[0]!++, 9);
    await b.listen(a.port, '127.0.0.1', true, () => got[1]!++, 9);
    assert.equal(b.port, a.port);
    await assert.rejects(alone.listen(a.port, '127.0.0.1', false, () => undefined, 9), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    for (let i = 0; i < 20; i++) client.send(Buffer.from('not media'), a.port, '127.0.0.1');
    await waitFor(() => got[0]! + got[1]! === 20, 5000);
    assert.equal(got[0]! + got[1]!, 20, `delivered ${got.join('+')}`);
    assert.ok(got[0] === 0 || got[1] === 0, `one client address, one relay: ${got.join('+')}`);
  } finally {
    client.close();
    a.close();
    b.close();
    alone.close();
  }
});

for (const relay of ['native', 'dgram'] as const) {
  test(`UDP gateway (${relay}): verified checks open the way, media follows the client to a new address, strangers are dropped`, { timeout: 20_000 }, async () => {
    const juice = await sock();
    const gw = new RtcUdpGateway(silentLogger(), { follow: true, shared: false, native: relay === 'native' });
    await gw.listen(0, juice.port);
    const [a, b, c] = [await sock(), await sock(), await sock()];
    const send = (from: Sock, msg: Buffer): void => from.s.send(msg, gw.port, '127.0.0.1');
    try {
      const peer = await gw.register('srvU', PWD);

      // Strangers: media from an unknown address, a check with a bad password, a check for no session.
      send(c, rtp(1));
      send(c, bindingRequest({ username: 'srvU:cli', password: 'wrong-password-000000000' }));
      send(c, bindingRequest({ username: 'nobody:cli', password: PWD }));
      await sleep(100);
      assert.equal(juice.got.length, 0, 'nothing reaches libjuice from strangers');
      assert.equal(gw.counters.unknown, 1);
      assert.equal(gw.counters.unverified, 2);

      // A's check reaches libjuice from the session's own socket; libjuice's answer comes back re-written for A.
      const check = bindingRequest({ username: 'srvU:cli', password: PWD, useCandidate: true });
      send(a, check);
      await waitFor(() => juice.got.length === 1);
      assert.deepEqual(juice.got[0]!.msg, check);
      const innerPort = juice.got[0]!.port;
      // The session's loopback address as libjuice sees it (127.0.0.1 with dgram, one of 127.1/16 with the native relay).
      const innerAddr = juice.got[0]!.address;
      const tid = parseStun(check)!.transactionId;
      juice.s.send(bindingSuccess(tid, { address: innerAddr, port: innerPort }, PWD), innerPort, innerAddr);
      await waitFor(() => a.got.length === 1);
      const res = a.got[0]!.msg;
      const pm = parseStun(res)!;
      assert.equal(pm.cls, 'success');
      assert.ok(verifyIntegrity(res, pm, PWD), 'the re-written response is signed');
      assert.deepEqual(xorMappedAddress(res), { family: 4, address: '127.0.0.1', port: a.port }, 'A learns its own address, not the loopback one libjuice saw');

      // Media both ways.
      send(a, rtp(2));
      await waitFor(() => juice.got.length === 2);
      assert.deepEqual([juice.got[1]!.address, juice.got[1]!.port], [innerAddr, innerPort], 'every packet of the session reaches libjuice from one address');
      juice.s.send(rtp(3), innerPort, innerAddr);
      await waitFor(() => a.got.length === 2);
      assert.equal(a.got[1]!.msg.readUInt16BE(2), 3);

      // B checks while A is alive, without nominating: the session stays on A.
      send(a, rtp(4));
      send(b, bindingRequest({ username: 'srvU:cli', password: PWD }));
      await waitFor(() => juice.got.length === 4);
      juice.s.send(rtp(5), innerPort, innerAddr);
      await waitFor(() => a.got.length === 3);
      assert.equal(peer.moves, 0);
      assert.equal(a.got[2]!.msg.readUInt16BE(2), 5);

      // B nominates: the session moves to B.
      send(b, bindingRequest({ username: 'srvU:cli', password: PWD, useCandidate: true }));
      await waitFor(() => peer.moves === 1);
      juice.s.send(rtp(6), innerPort, innerAddr);
      await waitFor(() => b.got.some((g) => g.msg[0] === 0x80));
      assert.equal(b.got.find((g) => g.msg[0] === 0x80)!.msg.readUInt16BE(2), 6);
      assert.equal(a.got.length, 3, 'A gets nothing more');

      // NAT rebinding: B goes quiet, C checks without nominating and then takes over.
      await sleep(1300);
      send(c, bindingRequest({ username: 'srvU:cli', password: PWD }));
      await waitFor(() => peer.moves === 2);
      assert.equal(peer.current?.port, c.port);
      assert.equal(gw.counters.moves, 2);

      // After the session ends, its client is a stranger.
      gw.unregister(peer);
      const before = juice.got.length;
      send(c, rtp(7));
      send(c, bindingRequest({ username: 'srvU:cli', password: PWD }));
      await sleep(100);
      assert.equal(juice.got.length, before);
      assert.equal(gw.sessions, 0);
    } finally {
      gw.close();
      for (const s of [juice, a, b, c]) s.s.close();
    }
  });

  test(`UDP gateway (${relay}): two sessions stay apart, and garbage does not disturb them`, { timeout: 20_000 }, async () => {
    const juice = await sock();
    const gw = new RtcUdpGateway(silentLogger(), { follow: true, shared: false, native: relay === 'native' });
    await gw.listen(0, juice.port);
    const [a, b, junk] = [await sock(), await sock(), await sock()];
    try {
      const p1 = await gw.register('one', PWD);
      const p2 = await gw.register('two', PWD + 'x');
      a.s.send(bindingRequest({ username: 'one:c', password: PWD }), gw.port, '127.0.0.1');
      b.s.send(bindingRequest({ username: 'two:c', password: PWD + 'x' }), gw.port, '127.0.0.1');
      await waitFor(() => juice.got.length === 2);
      const sources = new Set(juice.got.map((g) => `${g.address}:${g.port}`));
      assert.equal(sources.size, 2, 'each session reaches libjuice from its own address');
      for (let i = 0; i < 2000; i++) {
        const g = Buffer.alloc(1 + (i % 300), i & 0xff);
        if (i % 3 === 0) {
          g[0] = 0;
          if (g.length >= 8) g.writeUInt32BE(0x2112a442, 4);
        }
        junk.s.send(g, gw.port, '127.0.0.1');
      }
      // Oversized datagrams, and datagrams to a session's loopback address from anyone but libjuice.
      junk.s.send(Buffer.alloc(9000, 0x80), gw.port, '127.0.0.1');
      for (const p of [p1, p2]) junk.s.send(rtp(99), p.inner.localPort, p.inner.localAddress);
      await sleep(300);
      assert.equal(juice.got.length, 2, 'garbage never reaches libjuice');
      assert.equal(a.got.length + b.got.length, 0, 'nor the clients');
      assert.notEqual(`${p1.inner.localAddress}:${p1.inner.localPort}`, `${p2.inner.localAddress}:${p2.inner.localPort}`, 'each session has its own loopback address');
      juice.s.send(rtp(1), p1.inner.localPort, p1.inner.localAddress);
      juice.s.send(rtp(2), p2.inner.localPort, p2.inner.localAddress);
      await waitFor(() => a.got.length === 1 && b.got.length === 1);
      assert.equal(a.got[0]!.msg.readUInt16BE(2), 1);
      assert.equal(b.got[0]!.msg.readUInt16BE(2), 2);
    } finally {
      gw.close();
      for (const s of [juice, a, b, junk]) s.s.close();
    }
  });

  test(`UDP gateway (${relay}): a port another socket holds is refused with EADDRINUSE`, async () => {
    const holder = dgram.createSocket({ type: 'udp6', ipv6Only: false });
    await new Promise<void>((resolve) => holder.bind({ port: 0, address: '::', exclusive: true }, resolve));
    const gw = new RtcUdpGateway(silentLogger(), { follow: true, shared: false, native: relay === 'native' });
    try {
      await assert.rejects(gw.listen((holder.address() as AddressInfo).port, 1), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
      assert.equal(gw.port, 0);
    } finally {
      gw.close();
      holder.close();
    }
  });
}
