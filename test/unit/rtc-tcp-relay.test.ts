/**
 * The WebRTC-over-TCP relay on loopback sockets: RFC 4571 frames in (split
 * and coalesced arbitrarily) become datagrams on the UDP port, datagrams back
 * become frames on the TCP connection, each connection has its own UDP
 * source port, and a connection that does not open with a STUN Binding
 * Request is closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { RtcTcpRelay } from '../../src/servers/webrtc/rtc-tcp-relay.js';
import { frameRfc4571, Rfc4571Deframer } from '../../src/protocol/rtp/packet-classifier.js';
import { silentLogger } from '../../src/log/logger.js';

function stunBindingRequest(tag: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt32BE(0x2112a442, 4);
  b.writeUInt32BE(tag, 8);
  return b;
}

async function udpServer(): Promise<{ sock: dgram.Socket; port: number; got: { msg: Buffer; port: number }[] }> {
  const sock = dgram.createSocket('udp4');
  const got: { msg: Buffer; port: number }[] = [];
  sock.on('message', (msg, r) => got.push({ msg, port: r.port }));
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return { sock, port: (sock.address() as AddressInfo).port, got };
}

async function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

async function waitFor(ok: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('TCP relay: frames ⇄ datagrams, one UDP source port per connection', async () => {
  const udp = await udpServer();
  const relay = new RtcTcpRelay(udp.port, silentLogger());
  await relay.listen(0);
  const a = await connect(relay.port);
  const b = await connect(relay.port);
  try {
    // Connection a: a STUN request then two media-looking packets, written byte by byte and coalesced.
    const pkts = [stunBindingRequest(1), Buffer.from([0x80, 0x60, 0, 1, 1, 2, 3]), Buffer.alloc(1300, 0x17)];
    const wire = Buffer.concat(pkts.map(frameRfc4571));
    for (let i = 0; i < 10; i++) a.write(wire.subarray(i, i + 1));
    a.write(wire.subarray(10));
    b.write(frameRfc4571(stunBindingRequest(2)));
    await waitFor(() => udp.got.length === 4);
    const isB = (m: Buffer): boolean => m.equals(stunBindingRequest(2));
    const fromA = udp.got.filter((g) => !isB(g.msg));
    assert.deepEqual(fromA.map((g) => g.msg), pkts);
    const portA = fromA[0]!.port;
    const fromB = udp.got.find((g) => isB(g.msg))!;
    assert.ok(fromA.every((g) => g.port === portA), 'one source port per connection');
    assert.notEqual(fromB.port, portA, 'each connection has its own source port');

    // Datagrams back to a's port come out framed on a only.
    const deframer = new Rfc4571Deframer();
    const back: Buffer[] = [];
    a.on('data', (d: Buffer) => back.push(...deframer.push(d)));
    let bGot = 0;
    b.on('data', () => bGot++);
    const replies = [Buffer.from('reply-1'), Buffer.alloc(1200, 0x42)];
    for (const r of replies) udp.sock.send(r, portA, '127.0.0.1');
    await waitFor(() => back.length === 2);
    assert.deepEqual(back, replies);
    assert.equal(bGot, 0);
  } finally {
    a.destroy();
    b.destroy();
    relay.close();
    udp.sock.close();
  }
});

test('TCP relay: a connection not opening with a STUN Binding Request, or with a zero-length frame, is closed', async () => {
  const udp = await udpServer();
  const relay = new RtcTcpRelay(udp.port, silentLogger());
  await relay.listen(0);
  try {
    for (const first of [frameRfc4571(Buffer.from([0x80, 0x60, 0, 1])), Buffer.from([0, 0, 1, 2, 3]), frameRfc4571(Buffer.from('GET / HTTP/1.1\r\n'))]) {
      const s = await connect(relay.port);
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.on('error', () => undefined);
      s.write(first);
      await closed;
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(udp.got.length, 0, 'nothing reached the UDP port');
  } finally {
    relay.close();
    udp.sock.close();
  }
});
