import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RtmpChunkReader } from '../../src/protocol/rtmp/chunk-reader.js';
import type { RtmpMessage } from '../../src/protocol/rtmp/chunk-reader.js';
import {
  abortMessage,
  acknowledgementMessage,
  encodeRtmpMessage,
  parseUserControl,
  pingRequestMessage,
  rtmpMessageSize,
  setBufferLengthMessage,
  setChunkSizeMessage,
  setPeerBandwidthMessage,
  streamBeginMessage,
  windowAckSizeMessage,
} from '../../src/protocol/rtmp/chunk-writer.js';
import { RtmpError } from '../../src/protocol/rtmp/rtmp-error.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isRtmpError = (code: string) => (e: unknown) => e instanceof RtmpError && e.code === code;

function strip(ms: RtmpMessage[]) {
  return ms.map((m) => ({ csid: m.csid, type: m.type, streamId: m.streamId, timestamp: m.timestamp, payload: Buffer.from(m.payload) }));
}

/** Feeds `input` split at the given cut points and collects all messages. */
function feedSplit(input: Buffer, cuts: number[], reader = new RtmpChunkReader()): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    out.push(...reader.feed(input.subarray(prev, c)));
    prev = c;
  }
  return out;
}

describe('chunk writer', () => {
  test('type 0 header bytes, single chunk', () => {
    const b = encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 0x010203, payload: hex('aabbcc') }, 128, 6);
    assert.deepEqual(b, hex('06 010203 000003 09 01000000 aabbcc'));
  });

  test('continuation chunks are type 3; 2- and 3-byte chunk stream ids', () => {
    const payload = Buffer.alloc(5, 0x11);
    assert.deepEqual(
      encodeRtmpMessage({ type: 8, streamId: 1, timestamp: 0, payload }, 2, 64),
      hex('00 00 000000 000005 08 01000000 1111 c0 00 1111 c0 00 11'),
    );
    assert.deepEqual(
      encodeRtmpMessage({ type: 8, streamId: 1, timestamp: 0, payload: payload.subarray(0, 3) }, 2, 320),
      hex('01 0001 000000 000003 08 01000000 1111 c1 0001 11'),
    );
  });

  test('extended timestamp is written in the first chunk and repeated on continuations', () => {
    const b = encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 0x01000000, payload: hex('0102 0304') }, 2, 6);
    assert.deepEqual(b, hex('06 ffffff 000004 09 01000000 01000000 0102 c6 01000000 0304'));
    assert.equal(b.length, rtmpMessageSize(4, 0x01000000, 2, 6));
  });

  test('protocol control messages', () => {
    assert.deepEqual(setChunkSizeMessage(4096), hex('02 000000 000004 01 00000000 00001000'));
    assert.deepEqual(abortMessage(6), hex('02 000000 000004 02 00000000 00000006'));
    assert.deepEqual(acknowledgementMessage(1000), hex('02 000000 000004 03 00000000 000003e8'));
    assert.deepEqual(windowAckSizeMessage(2500000), hex('02 000000 000004 05 00000000 002625a0'));
    assert.deepEqual(setPeerBandwidthMessage(2500000, 2), hex('02 000000 000005 06 00000000 002625a0 02'));
    assert.deepEqual(streamBeginMessage(1), hex('02 000000 000006 04 00000000 0000 00000001'));
    assert.deepEqual(pingRequestMessage(7), hex('02 000000 000006 04 00000000 0006 00000007'));
    assert.deepEqual(parseUserControl(hex('0003 00000001 00000bb8')), { event: 3, value: 1, bufferLength: 3000 });
    assert.deepEqual(parseUserControl(hex('0007 0000002a')), { event: 7, value: 42 });
    assert.throws(() => parseUserControl(hex('0003 00000001')), RtmpError);
    assert.throws(() => setChunkSizeMessage(0), RtmpError);
    void setBufferLengthMessage;
  });
});

describe('chunk reader', () => {
  test('single-chunk message is a zero-copy subarray of the input', () => {
    const input = hex('06 000064 000003 09 01000000 aabbcc');
    const [m] = new RtmpChunkReader().feed(input);
    assert.deepEqual(strip([m]), [{ csid: 6, type: 9, streamId: 1, timestamp: 100, payload: hex('aabbcc') }]);
    assert.equal(m.payload.buffer, input.buffer);
    assert.equal(m.payload.byteOffset, input.byteOffset + 12);
  });

  test('header types 0, 1, 2, 3 with deltas', () => {
    const input = hex(
      [
        '04 0003e8 000003 09 01000000 616161', // type 0: ts 1000, len 3, video, stream 1
        '44 000028 000002 08 6262', //            type 1: +40, len 2, audio
        '84 000014 6363', //                      type 2: +20
        'c4 6464', //                             type 3: new message, +20 again
      ].join(''),
    );
    const ms = strip(new RtmpChunkReader().feed(input));
    assert.deepEqual(
      ms.map((m) => [m.type, m.streamId, m.timestamp, m.payload.toString()]),
      [
        [9, 1, 1000, 'aaa'],
        [8, 1, 1040, 'bb'],
        [8, 1, 1060, 'cc'],
        [8, 1, 1080, 'dd'],
      ],
    );
  });

  test('multi-chunk messages are assembled at the declared length', () => {
    const payload = randomBytes(1000);
    const ms = new RtmpChunkReader().feed(encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 5, payload }, 128, 300));
    assert.equal(ms.length, 1);
    assert.equal(ms[0].csid, 300);
    assert.deepEqual(ms[0].payload, payload);
    assert.equal(ms[0].payload.length, 1000);
  });

  test('a large message (300 KB, past the first assembly buffer) comes out whole at any split', () => {
    const payload = randomBytes(300_000);
    const wire = encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 7, payload }, 4096, 6);
    for (const step of [wire.length, 7000, 4097, 1000]) {
      const cuts: number[] = [];
      for (let c = step; c < wire.length; c += step) cuts.push(c);
      const reader = new RtmpChunkReader();
      reader.setChunkSize(4096);
      const ms = feedSplit(wire, cuts, reader);
      assert.equal(ms.length, 1, `split every ${step}`);
      assert.equal(ms[0].payload.length, payload.length);
      assert.ok(ms[0].payload.equals(payload), `split every ${step}`);
    }
  });

  test('memory follows the bytes received, not the length a header declares', () => {
    // Abandoned 16 MiB declarations, one 12-byte header each: a peer must not make us allocate 16 MiB per header.
    const reader = new RtmpChunkReader();
    const header = (csid: number) => Buffer.concat([Buffer.from([csid, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]), Buffer.alloc(8, 1)]);
    const before = process.memoryUsage().arrayBuffers;
    const held: RtmpMessage[] = [];
    for (let i = 0; i < 200; i++) held.push(...reader.feed(header(4 + (i % 2))));
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.equal(held.length, 0);
    assert.ok(grown < 16 * 1024 * 1024, `200 headers declaring 16 MiB each grew array buffers by ${grown} bytes`);
  });

  test('extended timestamps: type 0 absolute, type 1 delta, type 3 continuation', () => {
    const big = 0x12345678;
    const payload = randomBytes(300);
    const first = encodeRtmpMessage({ type: 9, streamId: 1, timestamp: big, payload }, 128, 6);
    // type 1 with an extended delta of 0x01000000 and one 4-byte body.
    const second = hex('46 ffffff 000004 09 01000000 01020304');
    // type 3 new message reuses the extended delta (and carries it again).
    const third = hex('c6 01000000 05060708');
    const ms = new RtmpChunkReader().feed(Buffer.concat([first, second, third]));
    assert.deepEqual(
      ms.map((m) => m.timestamp),
      [big, big + 0x01000000, big + 0x02000000],
    );
    assert.deepEqual(ms[0].payload, payload);
    assert.deepEqual(ms[2].payload, hex('05060708'));
  });

  test('peer chunk size changes both ways take effect on the next byte', () => {
    const big = randomBytes(3000);
    const small = randomBytes(200);
    const input = Buffer.concat([
      setChunkSizeMessage(4096),
      encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 1, payload: big }, 4096, 6),
      encodeRtmpMessage({ type: 1, streamId: 0, timestamp: 0, payload: hex('00000032') }, 4096, 2),
      encodeRtmpMessage({ type: 8, streamId: 1, timestamp: 2, payload: small }, 50, 7),
    ]);
    const reader = new RtmpChunkReader();
    const ms = reader.feed(input);
    assert.equal(reader.inChunkSize, 50);
    assert.deepEqual(
      ms.map((m) => m.type),
      [1, 9, 1, 8],
    );
    assert.deepEqual(ms[1].payload, big);
    assert.deepEqual(ms[3].payload, small);
  });

  test('abort drops the partial message of a chunk stream', () => {
    const payload = randomBytes(300);
    const full = encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 1, payload }, 128, 6);
    const partial = full.subarray(0, 12 + 128); // first chunk only
    const again = encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 2, payload: hex('0102') }, 128, 6);
    const ms = new RtmpChunkReader().feed(Buffer.concat([partial, abortMessage(6), again]));
    assert.deepEqual(
      ms.map((m) => m.type),
      [2, 9],
    );
    assert.deepEqual(ms[1].payload, hex('0102'));
  });

  test('any split, including one byte at a time, gives the same messages', () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 30; i++) {
      const payload = randomBytes(i * 37);
      const ts = i % 7 === 0 ? 0xfffff0 + i * 1000 : i * 40;
      if (i === 10) parts.push(setChunkSizeMessage(1000));
      if (i === 20) parts.push(setChunkSizeMessage(60));
      const cs = i < 10 ? 128 : i < 20 ? 1000 : 60;
      parts.push(encodeRtmpMessage({ type: 8 + (i % 2), streamId: 1, timestamp: ts, payload }, cs, [4, 6, 70, 400][i % 4]));
    }
    const input = Buffer.concat(parts);
    const whole = strip(new RtmpChunkReader().feed(input));
    assert.equal(whole.length, 32);
    const oneByte = strip(feedSplit(input, Array.from({ length: input.length - 1 }, (_, i) => i + 1)));
    assert.deepEqual(oneByte, whole);
    for (let k = 0; k < 20; k++) {
      const cuts = Array.from({ length: 10 }, () => (Math.random() * input.length) | 0).sort((a, b) => a - b);
      assert.deepEqual(strip(feedSplit(input, cuts)), whole);
    }
  });
});

describe('chunk reader limits and bad input', () => {
  test('absurd chunk sizes are rejected', () => {
    assert.throws(() => new RtmpChunkReader().feed(setChunkSizeMessage(32 * 1024 * 1024)), isRtmpError('limit'));
    assert.throws(() => new RtmpChunkReader().feed(hex('02 000000 000004 01 00000000 00000000')), isRtmpError('chunk'));
    assert.throws(() => new RtmpChunkReader().feed(hex('02 000000 000004 01 00000000 80000000')), isRtmpError('chunk'));
    assert.throws(() => new RtmpChunkReader().feed(hex('02 000000 000002 01 00000000 0000')), isRtmpError('chunk'));
  });

  test('message length over the limit fails at the header, before any body arrives', () => {
    const reader = new RtmpChunkReader({ maxMessageLength: 1024 });
    assert.throws(() => reader.feed(hex('06 000000 000401 09 01000000')), isRtmpError('limit'));
    // the reader stays failed
    assert.throws(() => reader.feed(hex('00')), isRtmpError('limit'));
  });

  test('too many chunk streams', () => {
    const reader = new RtmpChunkReader({ maxChunkStreams: 64 });
    const parts: Buffer[] = [];
    for (let csid = 2; csid < 2 + 65; csid++) parts.push(encodeRtmpMessage({ type: 8, streamId: 1, timestamp: 0, payload: hex('00') }, 128, csid));
    assert.throws(() => reader.feed(Buffer.concat(parts)), isRtmpError('limit'));
  });

  test('total partial-message bytes are bounded', () => {
    const reader = new RtmpChunkReader({ maxPendingBytes: 1000 });
    // two 600-byte messages, each only started
    const firstChunk = (csid: number) =>
      encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 0, payload: Buffer.alloc(600) }, 128, csid).subarray(0, 12 + 128);
    assert.deepEqual(reader.feed(firstChunk(6)), []);
    assert.throws(() => reader.feed(firstChunk(7)), isRtmpError('limit'));
  });

  test('a new chunk stream cannot start with a type 2 or 3 header', () => {
    assert.throws(() => new RtmpChunkReader().feed(hex('c6 00')), isRtmpError('chunk'));
    assert.throws(() => new RtmpChunkReader().feed(hex('86 000000 00')), isRtmpError('chunk'));
    // type 1 is tolerated (librtmp does it)
    assert.equal(new RtmpChunkReader().feed(hex('46 000000 000001 08 aa')).length, 1);
  });

  test('fuzz: random and mutated streams parse or throw RtmpError, fast', () => {
    const valid = Buffer.concat([
      setChunkSizeMessage(200),
      encodeRtmpMessage({ type: 20, streamId: 0, timestamp: 0, payload: randomBytes(500) }, 200, 3),
      encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 0x1000000, payload: randomBytes(450) }, 200, 6),
      hex('46 000028 000002 08 6262 86 000014 6363 c6 6464'),
      encodeRtmpMessage({ type: 8, streamId: 1, timestamp: 10, payload: randomBytes(30) }, 200, 400),
    ]);
    const cpu0 = process.cpuUsage();
    let parsed = 0;
    for (let i = 0; i < 2000; i++) {
      let input: Buffer;
      if (i % 4 === 0) {
        input = randomBytes(1 + (i % 200));
      } else {
        input = Buffer.from(valid);
        for (let k = 0; k < 1 + (i % 6); k++) input[(Math.random() * input.length) | 0] = (Math.random() * 256) | 0;
      }
      const reader = new RtmpChunkReader({ maxMessageLength: 1 << 20, maxPendingBytes: 4 << 20 });
      try {
        if (i % 2) reader.feed(input);
        else feedSplit(input, [7, 50, 300].filter((c) => c < input.length), reader);
        parsed++;
      } catch (e) {
        if (!(e instanceof RtmpError)) throw e;
      }
    }
    assert.ok(parsed > 0);
    assert.ok(cpuMsSince(cpu0) < 5000, 'CPU time of the loop: a parser that loops or goes quadratic');
  });
});
