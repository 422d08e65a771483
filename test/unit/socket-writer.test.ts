/**
 * A player's writes through the native TCP writer: bytes arrive whole and in
 * order whatever part the kernel took, a turn writes the same buffers to many
 * sockets in one call, and anything the native path cannot take (Node has
 * data queued, a destroyed socket, TLS) goes through Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { FlushTurn } from '../../src/live/flush-turn.js';
import { SocketWriter } from '../../src/core/socket-writer.js';
import { directWriteMode, directWrites } from '../../src/core/tcp-writer-addon.js';

interface Pair {
  server: net.Socket;
  client: net.Socket;
  received: Buffer[];
  bytes(): Buffer;
}

async function pairs(n: number): Promise<{ list: Pair[]; close(): void }> {
  const accepted: net.Socket[] = [];
  const srv = net.createServer((s) => accepted.push(s));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  const list: Pair[] = [];
  for (let i = 0; i < n; i++) {
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    while (accepted.length <= i) await new Promise((r) => setImmediate(r));
    const received: Buffer[] = [];
    client.on('data', (d: Buffer) => received.push(d));
    list.push({ server: accepted[i]!, client, received, bytes: () => Buffer.concat(received) });
  }
  return {
    list,
    close() {
      for (const p of list) {
        p.client.destroy();
        p.server.destroy();
      }
      srv.close();
    },
  };
}

async function until(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const native = directWriteMode() === 'native';

test('the native writer is built and used on this machine (npm install builds it)', () => {
  assert.equal(directWriteMode(), 'native');
});

test('a batch goes out with the native writer and is counted in bytesWritten', { skip: !native }, async () => {
  const { list, close } = await pairs(1);
  try {
    const p = list[0]!;
    const w = new SocketWriter(p.server);
    assert.ok(w.fd >= 0);
    const before = directWrites.count;
    assert.equal(w.write([Buffer.from('hello '), Buffer.from('world')]), true);
    assert.equal(directWrites.count, before + 1, 'sent natively');
    assert.equal(p.server.writableLength, 0, 'nothing left to Node');
    await until(() => p.bytes().length === 11, 'bytes arrive');
    assert.equal(p.bytes().toString(), 'hello world');
    assert.equal(w.bytesWritten, 11);
  } finally {
    close();
  }
});

test('what the socket does not take goes to Node, in order, and later writes queue behind it', { skip: !native }, async () => {
  const { list, close } = await pairs(1);
  try {
    const p = list[0]!;
    p.client.pause(); // the peer stops reading: the kernel's buffers fill
    const w = new SocketWriter(p.server);
    const big = Buffer.alloc(32 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i / 4, i);
    const ok = w.write([big.subarray(0, 1000), big.subarray(1000)]);
    assert.equal(ok, false, 'the rest is queued in Node: wait for drain');
    assert.ok(p.server.writableLength > 0 && p.server.writableLength < big.length, `part sent natively, the rest queued (${p.server.writableLength})`);
    const tail = Buffer.from('the end');
    assert.equal(w.write([tail]), false, 'Node still has data queued: this write goes behind it');
    p.client.resume();
    await until(() => p.bytes().length === big.length + tail.length, 'every byte arrives');
    assert.ok(p.bytes().equals(Buffer.concat([big, tail])), 'same bytes, same order');
    await until(() => p.server.writableLength === 0, 'drained');
    assert.equal(w.bytesWritten, big.length + tail.length);
  } finally {
    close();
  }
});

test('a turn writes the same buffers to every socket in one native call; a destroyed socket is skipped', { skip: !native }, async () => {
  const { list, close } = await pairs(4);
  try {
    const writers = list.map((p) => new SocketWriter(p.server));
    const turn = new FlushTurn();
    const shared = [Buffer.from('frame-1;'), Buffer.from('frame-2;')];
    const other = [Buffer.from('other;')];
    const before = directWrites.count;
    for (const [i, w] of writers.entries()) assert.equal(w.write(i === 2 ? other : shared, turn), true);
    assert.equal(directWrites.count, before, 'nothing written before the turn ends');
    list[3]!.server.destroy();
    turn.finish();
    assert.equal(directWrites.count, before + 3, 'three sockets written natively, the destroyed one not');
    await until(() => list.slice(0, 3).every((p) => p.bytes().length > 0), 'bytes arrive');
    assert.equal(list[0]!.bytes().toString(), 'frame-1;frame-2;');
    assert.equal(list[1]!.bytes().toString(), 'frame-1;frame-2;');
    assert.equal(list[2]!.bytes().toString(), 'other;');
    // Two batches for one socket in a turn keep their order.
    const again = new FlushTurn();
    writers[0]!.write([Buffer.from('a;')], again);
    writers[0]!.write([Buffer.from('b;')], again);
    again.finish();
    await until(() => list[0]!.bytes().length === 20, 'second turn arrives');
    assert.equal(list[0]!.bytes().toString(), 'frame-1;frame-2;a;b;');
  } finally {
    close();
  }
});

test('with data queued in Node, a batch goes through Node behind it', async () => {
  const { list, close } = await pairs(1);
  try {
    const p = list[0]!;
    const w = new SocketWriter(p.server);
    p.server.cork();
    p.server.write('queued;');
    const before = directWrites.count;
    const turn = new FlushTurn();
    w.write([Buffer.from('batch;')], turn);
    turn.finish();
    assert.equal(directWrites.count, before, 'not written natively');
    p.server.uncork();
    await until(() => p.bytes().length === 13, 'bytes arrive');
    assert.equal(p.bytes().toString(), 'queued;batch;');
  } finally {
    close();
  }
});
