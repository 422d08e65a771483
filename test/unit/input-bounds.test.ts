/**
 * Every length a peer declares is refused by the limit, before the bytes are
 * there and before anything is allocated (issue 11 item 2): a 15 MB string
 * declared in a 9-byte buffer fails on its length, not on running out.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AMF_COMMAND_LIMITS, AMF_DATA_LIMITS, AmfError, decodeAmf0, encodeAmf0 } from '../../src/format/amf0.js';
import { RtmpChunkReader, MAX_COMMAND_MESSAGE_BYTES } from '../../src/protocol/rtmp/chunk-reader.js';
import { RtmpClientConnection } from '../../src/protocol/rtmp/client-connection.js';
import { MAX_URL_FIELD_BYTES, RtmpError, RtmpServerConnection } from '../../src/protocol/rtmp/server-connection.js';
import type { RtmpServerEvent } from '../../src/protocol/rtmp/server-connection.js';
import { clip } from '../../src/log/clip.js';

const MB15 = 15 * 1024 * 1024;

describe('AMF limits', () => {
  test('a declared 15 MB long string is refused by its length', () => {
    const b = Buffer.alloc(9);
    b[0] = 0x0c;
    b.writeUInt32BE(MB15, 1);
    assert.throws(() => decodeAmf0(b, Infinity, AMF_COMMAND_LIMITS), (e: Error) => e instanceof AmfError && /long string of 15728640 bytes exceeds limit 8192/.test(e.message));
    assert.throws(() => decodeAmf0(b), /long string of 15728640 bytes exceeds limit 1048576/);
  });

  test('a short string beyond the command limit is refused before its bytes arrive', () => {
    const b = Buffer.from([0x02, 0xff, 0xff, 0x61]);
    assert.throws(() => decodeAmf0(b, Infinity, AMF_COMMAND_LIMITS), /string of 65535 bytes exceeds limit 8192/);
    // Within the limit but not there: the old truncation error.
    assert.throws(() => decodeAmf0(b, Infinity, AMF_DATA_LIMITS), /truncated string/);
  });

  test('an AMF3 string declared huge is refused by its length', () => {
    // 0x11 (AVM+), 0x06 string, U29 = (len << 1) | 1 with len = 2^27.
    const b = Buffer.from([0x11, 0x06, 0xc0, 0x80, 0x80, 0x01]);
    assert.throws(() => decodeAmf0(b, Infinity, AMF_COMMAND_LIMITS), /AMF3 string of \d+ bytes exceeds limit 8192/);
  });

  test('object property count and nesting depth are bounded', () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i <= AMF_COMMAND_LIMITS.maxProperties; i++) wide[`k${i}`] = i;
    assert.throws(() => decodeAmf0(encodeAmf0([wide]), Infinity, AMF_COMMAND_LIMITS), /more than 256 properties/);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) deep = { d: deep };
    assert.throws(() => decodeAmf0(encodeAmf0([deep as never]), Infinity, AMF_COMMAND_LIMITS), /nesting deeper than 16/);
    const arr = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]);
    assert.throws(() => decodeAmf0(arr, Infinity, AMF_COMMAND_LIMITS), /strict array count 4294967295 exceeds limit 256/);
  });
});

/** A type 0 chunk header on csid 3: message `type` of `length` bytes, no body. */
function header(type: number, length: number): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x03;
  h.writeUIntBE(length, 4, 3);
  h[7] = type;
  return h;
}

describe('RTMP chunk reader limits', () => {
  test('a command message declared 15 MB is refused on its header alone', () => {
    const r = new RtmpChunkReader();
    assert.throws(() => r.feed(header(20, MB15)), (e: Error) => e instanceof RtmpError && e.code === 'limit' && /type 20 of 15728640 bytes exceeds limit 65536/.test(e.message));
  });

  test('commands are held to 64 KiB even where media may be 16 MiB', () => {
    const r = new RtmpChunkReader();
    assert.deepEqual(r.feed(header(9, 1024 * 1024)), []);
    assert.throws(() => new RtmpChunkReader().feed(header(20, MAX_COMMAND_MESSAGE_BYTES + 1)), /exceeds limit 65536/);
  });
});

/** A server connection past the handshake; returns it and a feeder of client bytes. */
function handshaken(): { server: RtmpServerConnection; client: RtmpClientConnection; feed: (b: Buffer) => RtmpServerEvent[] } {
  const server = new RtmpServerConnection();
  const client = new RtmpClientConnection();
  const feed = (b: Buffer): RtmpServerEvent[] => {
    const evs = server.feed(b);
    for (const e of evs) if (e.type === 'send') for (const c of client.feed(e.data)) if (c.type === 'send') feed(c.data);
    return evs.filter((e) => e.type !== 'send');
  };
  feed(client.start());
  return { server, client, feed };
}

describe('RTMP server connection limits', () => {
  test('a connect with a 15 MB tcUrl fails on the declared message length', () => {
    const { client, feed } = handshaken();
    const bytes = client.connect('live', `rtmp://127.0.0.1/live?${'a'.repeat(MB15)}`);
    // Only the first chunk (header + 128 bytes) is needed to refuse it.
    assert.throws(() => feed(bytes.subarray(0, 140)), /exceeds limit 65536/);
  });

  test('URL fields and stream names beyond 4 KiB are refused with their name', () => {
    const long = `rtmp://127.0.0.1/live?${'a'.repeat(MAX_URL_FIELD_BYTES)}`;
    assert.throws(() => handshaken().feed(handshaken().client.connect('live', long)), /tcUrl of 4118 bytes exceeds limit 4096/);
    const p = handshaken();
    assert.throws(() => p.feed(p.client.connect('live', 'rtmp://h/live', { pageUrl: long })), /pageUrl of 4118 bytes/);
    const q = handshaken();
    q.feed(q.client.connect('live', 'rtmp://h/live'));
    assert.throws(() => q.feed(q.client.play(1, 'x'.repeat(5000))), /stream name of 5000 bytes exceeds limit 4096/);
    const ok = handshaken();
    const [ev] = ok.feed(ok.client.connect('live', `rtmp://h/live?${'a'.repeat(4000)}`));
    assert.equal(ev?.type, 'connect');
  });

  test('until the publish is accepted a media message over 64 KiB is refused; after it a 1 MiB frame passes', () => {
    const pre = handshaken();
    pre.feed(pre.client.connect('live', 'rtmp://h/live'));
    assert.throws(() => pre.feed(pre.client.media(9, 1, 0, Buffer.alloc(100 * 1024))), /type 9 of 102400 bytes exceeds limit 65536/);
    // A publish still in admission (hooks, security) is held to the same limit: asking is not being let in.
    const asked = handshaken();
    asked.feed(asked.client.connect('live', 'rtmp://h/live'));
    assert.throws(() => asked.feed(Buffer.concat([asked.client.publish(1, 's'), asked.client.media(9, 1, 0, Buffer.alloc(1024 * 1024, 0x17))])), /exceeds limit 65536/);
    const pub = handshaken();
    pub.feed(pub.client.connect('live', 'rtmp://h/live'));
    assert.deepEqual(pub.feed(pub.client.publish(1, 's')).map((e) => e.type), ['publish']);
    pub.server.publishStart(1, 's');
    const evs = pub.feed(pub.client.media(9, 1, 0, Buffer.alloc(1024 * 1024, 0x17)));
    assert.deepEqual(evs.map((e) => e.type), ['media']);
  });
});

test('clip keeps short text and cuts long text, telling its length', () => {
  assert.equal(clip('short', 10), 'short');
  assert.equal(clip('a'.repeat(300), 8), 'aaaaaaaa…(300 bytes)');
  assert.ok(clip('x'.repeat(MB15)).length < 300);
});
