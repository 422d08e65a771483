import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Amf0EcmaArray, decodeAmf0, encodeAmf0 } from '../../src/format/amf0.js';
import type { Amf0Object } from '../../src/format/amf0.js';
import { RtmpChunkReader } from '../../src/protocol/rtmp/chunk-reader.js';
import {
  encodeRtmpMessage,
  pingRequestMessage,
  setBufferLengthMessage,
  windowAckSizeMessage,
} from '../../src/protocol/rtmp/chunk-writer.js';
import { RtmpClientConnection } from '../../src/protocol/rtmp/client-connection.js';
import type { RtmpClientEvent } from '../../src/protocol/rtmp/client-connection.js';
import { RtmpError, RtmpServerConnection } from '../../src/protocol/rtmp/server-connection.js';
import type { RtmpServerEvent } from '../../src/protocol/rtmp/server-connection.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

/** Wires a server and a client together in memory; `send` events are delivered to the other side. */
class Pair {
  readonly server = new RtmpServerConnection();
  readonly client: RtmpClientConnection;
  serverEvents: RtmpServerEvent[] = [];
  clientEvents: RtmpClientEvent[] = [];

  constructor(complex = false) {
    this.client = new RtmpClientConnection({ complexHandshake: complex });
    this.toServer(this.client.start());
  }
  toServer(buf: Buffer): void {
    for (const ev of this.server.feed(buf)) {
      if (ev.type === 'send') this.toClient(ev.data);
      else this.serverEvents.push(ev);
    }
  }
  toClient(buf: Buffer): void {
    for (const ev of this.client.feed(buf)) {
      if (ev.type === 'send') this.toServer(ev.data);
      else this.clientEvents.push(ev);
    }
  }
  takeServer(): RtmpServerEvent[] {
    const e = this.serverEvents;
    this.serverEvents = [];
    return e;
  }
  takeClient(): RtmpClientEvent[] {
    const e = this.clientEvents;
    this.clientEvents = [];
    return e;
  }
}

/** Handshake, connect and createStream, with the server answering like SRS. */
function connected(complex = false): Pair {
  const p = new Pair(complex);
  assert.deepEqual(p.takeClient(), [{ type: 'handshakeDone' }]);
  p.toServer(p.client.connect('live', 'rtmp://127.0.0.1/live', { pageUrl: 'http://page' }));
  const [c] = p.takeServer();
  assert.equal(c.type, 'connect');
  p.toClient(
    Buffer.concat([
      p.server.windowAckSize(2500000),
      p.server.setPeerBandwidth(2500000, 2),
      p.server.setChunkSize(60000),
      p.server.connectResult(c.transactionId, { data: { version: '6.0.0' } }),
    ]),
  );
  p.takeClient();
  p.toServer(p.client.createStream());
  const [cs] = p.takeServer();
  assert.equal(cs.type, 'createStream');
  p.toClient(p.server.createStreamResult(cs.transactionId, 1));
  const [r] = p.takeClient();
  assert.deepEqual(r, { type: 'result', transactionId: cs.transactionId, args: [null, 1] });
  return p;
}

describe('server <-> client round trip', () => {
  for (const complex of [false, true]) {
    test(`connect fields and _result (${complex ? 'complex' : 'simple'} handshake)`, () => {
      const p = new Pair(complex);
      assert.deepEqual(p.takeClient(), [{ type: 'handshakeDone' }]);
      assert.equal(p.server.handshakeMode, complex ? 'complex' : 'simple');
      p.toServer(p.client.connect('live', 'rtmp://127.0.0.1:1935/live', { pageUrl: 'http://page', swfUrl: 'http://swf' }));
      const ev = p.takeServer();
      assert.equal(ev.length, 1);
      const c = ev[0];
      assert.ok(c.type === 'connect');
      assert.equal(c.transactionId, 1);
      assert.equal(c.app, 'live');
      assert.equal(c.tcUrl, 'rtmp://127.0.0.1:1935/live');
      assert.equal(c.pageUrl, 'http://page');
      assert.equal(c.swfUrl, 'http://swf');
      assert.equal(c.flashVer, 'LNX 9,0,124,2');
      assert.equal(c.objectEncoding, 0);
      assert.deepEqual(c.args, {});
      p.toClient(Buffer.concat([p.server.setChunkSize(60000), p.server.connectResult(1, { data: { version: '6.0.0' } })]));
      assert.equal(p.client.inChunkSize, 60000);
      const [r] = p.takeClient();
      assert.ok(r.type === 'result');
      assert.equal(r.transactionId, 1);
      const [props, info] = r.args as Amf0Object[];
      assert.equal(props.fmsVer, 'FMS/3,5,3,888');
      assert.equal(props.capabilities, 127);
      assert.equal(info.code, 'NetConnection.Connect.Success');
      assert.equal(info.level, 'status');
      assert.deepEqual(info.data, { version: '6.0.0' });
    });
  }

  test('connect with user arguments and connectError', () => {
    const p = new Pair();
    p.takeClient();
    const payload = encodeAmf0(['connect', 1, { app: 'live', tcUrl: 'rtmp://h/live' }, { token: 'abc' }]);
    p.toServer(encodeRtmpMessage({ type: 20, streamId: 0, timestamp: 0, payload }, 128, 3));
    const [c] = p.takeServer();
    assert.ok(c.type === 'connect');
    assert.deepEqual(c.args, { token: 'abc' });
    assert.deepEqual(c.commandObject, { app: 'live', tcUrl: 'rtmp://h/live' });
    p.toClient(p.server.connectError(1, undefined, 'go away', { ex: { code: 302, redirect: 'rtmp://other/live' } }));
    const [e] = p.takeClient();
    assert.ok(e.type === 'error');
    const info = e.args[1] as Amf0Object;
    assert.equal(info.code, 'NetConnection.Connect.Rejected');
    assert.equal(info.description, 'go away');
    assert.deepEqual(info.ex, { code: 302, redirect: 'rtmp://other/live' });
  });

  test('FMLE publish sequence and media', () => {
    const p = connected();
    p.toServer(Buffer.concat([p.client.releaseStream('test?token=x'), p.client.fcPublish('test?token=x')]));
    const ev = p.takeServer();
    assert.deepEqual(
      ev.map((e) => [e.type, 'streamName' in e ? e.streamName : '']),
      [
        ['releaseStream', 'test?token=x'],
        ['FCPublish', 'test?token=x'],
      ],
    );
    const tids = ev.map((e) => ('transactionId' in e ? e.transactionId : -1));
    p.toClient(Buffer.concat(tids.map((t) => p.server.callResult(t))));
    assert.deepEqual(
      p.takeClient().map((e) => e.type === 'result' && e.args),
      [
        [null, undefined],
        [null, undefined],
      ],
    );

    p.toServer(p.client.publish(1, 'test?token=x'));
    const [pub] = p.takeServer();
    assert.deepEqual(pub, { type: 'publish', transactionId: 0, streamId: 1, streamName: 'test?token=x', publishType: 'live' });
    p.toClient(Buffer.concat([p.server.onFCPublish(), p.server.publishStart(1, 'test')]));
    const st = p.takeClient();
    assert.equal(st.length, 2);
    assert.ok(st[0].type === 'command' && st[0].name === 'onFCPublish');
    assert.ok(st[1].type === 'onStatus');
    assert.deepEqual([st[1].streamId, st[1].level, st[1].code], [1, 'status', 'NetStream.Publish.Start']);

    // media, after the client raises its chunk size
    p.toServer(p.client.setChunkSize(4096));
    assert.equal(p.server.inChunkSize, 4096);
    const video = randomBytes(10000);
    const audio = randomBytes(300);
    const meta = encodeAmf0(['@setDataFrame', 'onMetaData', new Amf0EcmaArray({ width: 320, height: 240 })]);
    p.toServer(
      Buffer.concat([
        p.client.media(18, 1, 0, meta),
        p.client.media(9, 1, 0, video),
        p.client.media(8, 1, 23, audio),
        p.client.media(9, 1, 0x1000000 + 40, video.subarray(0, 5000)),
      ]),
    );
    const media = p.takeServer();
    assert.deepEqual(
      media.map((e) => (e.type === 'media' ? [e.messageType, e.streamId, e.timestamp, e.payload.length] : e.type)),
      [
        [18, 1, 0, meta.length - 16],
        [9, 1, 0, 10000],
        [8, 1, 23, 300],
        [9, 1, 0x1000000 + 40, 5000],
      ],
    );
    const m0 = media[0];
    assert.ok(m0.type === 'media');
    assert.deepEqual(decodeAmf0(m0.payload), ['onMetaData', { width: 320, height: 240 }]);
    const m1 = media[1];
    assert.ok(m1.type === 'media');
    assert.deepEqual(m1.payload, video);

    p.toServer(p.client.command('FCUnpublish', 0, [null, 'test']));
    p.toServer(p.client.deleteStream(1));
    assert.deepEqual(
      p.takeServer().map((e) => e.type),
      ['FCUnpublish', 'deleteStream'],
    );
  });

  test('play gets the SRS onStatus sequence', () => {
    const p = connected(true);
    p.toServer(p.client.play(1, 'test'));
    const [pl] = p.takeServer();
    assert.deepEqual(pl, { type: 'play', transactionId: 0, streamId: 1, streamName: 'test', start: -2, duration: -1, reset: true });
    p.toClient(p.server.playStart(1, 'test'));
    const ev = p.takeClient();
    const summary = ev.map((e) => {
      if (e.type === 'userControl') return `uc:${e.event}:${e.value}`;
      if (e.type === 'onStatus') return `status:${e.streamId}:${e.code}`;
      if (e.type === 'media') return `data:${(decodeAmf0(e.payload)[0] as string) ?? ''}`;
      return e.type;
    });
    assert.deepEqual(summary, [
      'uc:0:1',
      'status:1:NetStream.Play.Reset',
      'status:1:NetStream.Play.Start',
      'data:|RtmpSampleAccess',
    ]);
    // media from server to player, large chunk size
    const frame = randomBytes(70000);
    p.toClient(p.server.encode(9, 1, 1234, frame, 6));
    const [m] = p.takeClient();
    assert.ok(m.type === 'media');
    assert.equal(m.timestamp, 1234);
    assert.deepEqual(m.payload, frame);
  });

  test('other commands: pause, closeStream, getStreamLength, AMF3 command, unknown', () => {
    const p = connected();
    const enc = (v: Parameters<typeof encodeAmf0>[0], sid: number, type = 20) =>
      encodeRtmpMessage({ type, streamId: sid, timestamp: 0, payload: type === 17 ? Buffer.concat([Buffer.from([0]), encodeAmf0(v)]) : encodeAmf0(v) }, 128, 8);
    p.toServer(
      Buffer.concat([
        enc(['pause', 0, null, true, 1500], 1),
        enc(['getStreamLength', 5, null, 'test'], 1),
        enc(['closeStream', 0, null], 1),
        enc(['createStream', 7, null], 0, 17),
        enc(['_checkbw', 8, null], 0),
        enc(['play', 0, null, 'x', 0, 10, false], 1),
      ]),
    );
    assert.deepEqual(p.takeServer(), [
      { type: 'pause', streamId: 1, pause: true, milliseconds: 1500 },
      { type: 'getStreamLength', transactionId: 5, streamName: 'test' },
      { type: 'closeStream', streamId: 1 },
      { type: 'createStream', transactionId: 7 },
      { type: 'command', name: '_checkbw', transactionId: 8, streamId: 0, args: [null] },
      { type: 'play', transactionId: 0, streamId: 1, streamName: 'x', start: 0, duration: 10, reset: false },
    ]);
  });

  test('AMF3 data message and aggregate message become media events', () => {
    const p = connected();
    const amf3data = Buffer.concat([Buffer.from([0]), encodeAmf0(['@setDataFrame', 'onMetaData', { a: 1 }])]);
    const tag = (type: number, ts: number, body: Buffer) => {
      const h = Buffer.alloc(11);
      h[0] = type;
      h.writeUIntBE(body.length, 1, 3);
      h.writeUIntBE(ts & 0xffffff, 4, 3);
      h[7] = ts >>> 24;
      const back = Buffer.alloc(4);
      back.writeUInt32BE(11 + body.length);
      return Buffer.concat([h, body, back]);
    };
    const agg = Buffer.concat([tag(9, 5000, Buffer.from('v1')), tag(8, 5010, Buffer.from('a1')), tag(9, 5040, Buffer.from('v2'))]);
    p.toServer(Buffer.concat([p.client.media(15, 1, 3, amf3data), p.client.media(22, 1, 100, agg)]));
    const ev = p.takeServer().map((e) => (e.type === 'media' ? [e.messageType, e.timestamp, e.payload.toString('latin1')] : e.type));
    assert.deepEqual(ev, [
      [15, 3, encodeAmf0(['onMetaData', { a: 1 }]).toString('latin1')],
      [9, 100, 'v1'],
      [8, 110, 'a1'],
      [9, 140, 'v2'],
    ]);
  });
});

describe('protocol control handled by the connection', () => {
  test('acknowledgement sent when bytes received exceed the peer window', () => {
    const p = connected();
    const sent: Buffer[] = [];
    const feed = (b: Buffer) => {
      for (const e of p.server.feed(b)) if (e.type === 'send') sent.push(e.data);
    };
    feed(windowAckSizeMessage(5000));
    for (let i = 0; i < 5; i++) feed(p.client.media(9, 1, i, randomBytes(2000)));
    const msgs = new RtmpChunkReader().feed(Buffer.concat(sent));
    assert.ok(msgs.length >= 1);
    assert.ok(msgs.every((m) => m.type === 3));
    const seqs = msgs.map((m) => m.payload.readUInt32BE(0));
    assert.equal(seqs[seqs.length - 1] <= p.server.bytesReceived, true);
    assert.ok(seqs.every((s, i) => i === 0 || s - seqs[i - 1] >= 5000));
  });

  test('ping request answered both ways; set buffer length reported', () => {
    const p = connected();
    p.toServer(pingRequestMessage(4242));
    // the server's ping response reaches the client as a user control event 7
    const uc = p.takeClient();
    assert.deepEqual(uc, [{ type: 'userControl', event: 7, value: 4242 }]);
    p.toClient(p.server.pingRequest(99));
    assert.deepEqual(p.takeClient(), [{ type: 'userControl', event: 6, value: 99 }]);
    assert.deepEqual(p.takeServer(), [{ type: 'pingResponse', timestamp: 99 }]);
    p.toServer(setBufferLengthMessage(1, 3000));
    assert.deepEqual(p.takeServer(), [{ type: 'setBufferLength', streamId: 1, milliseconds: 3000 }]);
  });
});

describe('bad input', () => {
  test('garbage, bad AMF and wrong version raise RtmpError with a code', () => {
    const p = connected();
    assert.throws(
      () => p.server.feed(encodeRtmpMessage({ type: 20, streamId: 0, timestamp: 0, payload: Buffer.from([0x02, 0xff, 0xff, 0x41]) }, 60000, 3)),
      (e: unknown) => e instanceof RtmpError && e.code === 'amf',
    );
    const q = connected();
    assert.throws(
      () => q.server.feed(encodeRtmpMessage({ type: 20, streamId: 0, timestamp: 0, payload: encodeAmf0([1, 2]) }, 128, 3)),
      (e: unknown) => e instanceof RtmpError && e.code === 'protocol',
    );
    assert.throws(
      () => new RtmpServerConnection().feed(Buffer.from('GET / HTTP/1.1\r\n')),
      (e: unknown) => e instanceof RtmpError && e.code === 'handshake',
    );
  });

  test('fuzz: random and mutated sessions parse or throw RtmpError, fast', () => {
    // A recorded client byte stream: handshake, connect, createStream, publish, media.
    const client = new RtmpClientConnection();
    const c0c1 = client.start();
    const server = new RtmpServerConnection();
    const s0s1s2 = Buffer.concat(server.feed(c0c1).flatMap((e) => (e.type === 'send' ? [e.data] : [])));
    const c2 = Buffer.concat(client.feed(s0s1s2).flatMap((e) => (e.type === 'send' ? [e.data] : [])));
    const body = Buffer.concat([
      client.connect('live', 'rtmp://h/live'),
      client.createStream(),
      client.setChunkSize(300),
      client.publish(1, 'test'),
      client.media(18, 1, 0, encodeAmf0(['@setDataFrame', 'onMetaData', new Amf0EcmaArray({ w: 1 })])),
      client.media(9, 1, 0, randomBytes(1000)),
      client.media(8, 1, 0x1000001, randomBytes(700)),
      pingRequestMessage(1),
      windowAckSizeMessage(100),
      client.media(22, 1, 0, Buffer.from('090000020000000000000061620000000d', 'hex')),
    ]);
    const session = Buffer.concat([c0c1, c2, body]);
    const hsLen = c0c1.length + c2.length;
    const cpu0 = process.cpuUsage();
    let ok = 0;
    for (let i = 0; i < 2000; i++) {
      const s = new RtmpServerConnection({ maxMessageLength: 1 << 20, maxPendingBytes: 4 << 20 });
      let input: Buffer;
      if (i % 5 === 0) {
        input = Buffer.concat([session.subarray(0, hsLen), randomBytes(1 + (i % 300))]);
      } else if (i % 5 === 1) {
        input = randomBytes(1 + (i % 50));
      } else {
        input = Buffer.from(session);
        for (let k = 0; k < 1 + (i % 8); k++) {
          const at = hsLen + ((Math.random() * (input.length - hsLen)) | 0);
          input[at] = (Math.random() * 256) | 0;
        }
      }
      try {
        if (i % 3 === 0) s.feed(input);
        else for (let off = 0; off < input.length; off += 997) s.feed(input.subarray(off, off + 997));
        ok++;
      } catch (e) {
        if (!(e instanceof RtmpError)) throw e;
      }
    }
    assert.ok(ok > 0);
    assert.ok(cpuMsSince(cpu0) < 10000, 'CPU time of the loop: a parser that loops or goes quadratic');
  });
});
