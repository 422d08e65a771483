import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RtmpSkimmer } from '../../bench/rtmp-skimmer.js';
import { BenchError } from '../../bench/bench-error.js';
import { encodeRtmpMessage, setChunkSizeMessage } from '../../src/protocol/rtmp/chunk-writer.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

interface Seen {
  type: number;
  ts: number;
  len: number;
  payload: string | null;
  sid: number;
}

function collect(sk: RtmpSkimmer, parts: Buffer[]): Seen[] {
  const out: Seen[] = [];
  for (const p of parts) {
    sk.feed(p, (type, ts, len, payload, sid) => out.push({ type, ts, len, payload: payload ? payload.toString('hex') : null, sid }));
    p.fill(0xee); // the skimmer must not keep references to fed bytes
  }
  return out;
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function splitEvery(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += n) out.push(Buffer.from(buf.subarray(i, i + n)));
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const video = bytes(300, 1);
const audio = bytes(50, 2);
const stream = Buffer.concat([
  encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 1000, payload: video }, 128, 6),
  encodeRtmpMessage({ type: 8, streamId: 1, timestamp: 1010, payload: audio }, 128, 4),
  encodeRtmpMessage({ type: 20, streamId: 0, timestamp: 0, payload: Buffer.from('0200075f726573756c74', 'hex') }, 128, 3),
]);

describe('RtmpSkimmer', () => {
  test('skims unwanted bodies and assembles wanted ones, in one feed', () => {
    const sk = new RtmpSkimmer();
    sk.assemble[20] = 1;
    assert.deepEqual(collect(sk, [Buffer.from(stream)]), [
      { type: 9, ts: 1000, len: 300, payload: null, sid: 1 },
      { type: 8, ts: 1010, len: 50, payload: null, sid: 1 },
      { type: 20, ts: 0, len: 10, payload: '0200075f726573756c74', sid: 0 },
    ]);
  });

  test('gives the same messages for every split of the input, bytes never kept', () => {
    const want = collect(new RtmpSkimmer(), [Buffer.from(stream)]);
    for (const n of [1, 2, 3, 7, 11, 12, 13, 128, 129, 200]) {
      const sk = new RtmpSkimmer();
      sk.assemble[9] = 1;
      sk.assemble[20] = 1;
      const got = collect(sk, splitEvery(stream, n));
      assert.equal(got.length, 3, `split ${n}`);
      assert.equal(got[0].payload, video.toString('hex'), `split ${n}`);
      assert.deepEqual(
        got.map((m) => [m.type, m.ts, m.len]),
        want.map((m) => [m.type, m.ts, m.len]),
      );
    }
  });

  test('applies Set Chunk Size to the next chunks', () => {
    const big = bytes(5000, 3);
    const buf = Buffer.concat([setChunkSizeMessage(4096), encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 40, payload: big }, 4096, 6)]);
    const sk = new RtmpSkimmer();
    sk.assemble[9] = 1;
    const got = collect(sk, splitEvery(buf, 1000));
    assert.equal(sk.inChunkSize, 4096);
    assert.deepEqual(got.map((m) => m.type), [1, 9]);
    assert.equal(got[1].payload, big.toString('hex'));
  });

  test('follows compressed headers: type 1, 2 and a type 3 that starts a message', () => {
    const hand = Buffer.from(
      [
        '04 0003e8 000003 08 01000000 aabbcc', // fmt 0, csid 4, ts 1000, len 3, audio, stream 1
        '44 000028 000002 08 ddee', // fmt 1: delta 40, len 2
        '84 000014 1122', // fmt 2: delta 20, same length
        'c4 3344', // fmt 3: new message, same delta
      ].join('').replace(/ /g, ''),
      'hex',
    );
    const sk = new RtmpSkimmer();
    sk.assemble[8] = 1;
    const got = collect(sk, [hand]);
    assert.deepEqual(
      got.map((m) => [m.ts, m.len, m.payload]),
      [
        [1000, 3, 'aabbcc'],
        [1040, 2, 'ddee'],
        [1060, 2, '1122'],
        [1080, 2, '3344'],
      ],
    );
  });

  test('reads extended timestamps, repeated on continuation chunks', () => {
    const p = bytes(400, 4);
    const enc = encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 0x1234567, payload: p }, 128, 6);
    for (const n of [1, 5, 16, 17, enc.length]) {
      const sk = new RtmpSkimmer();
      sk.assemble[9] = 1;
      const got = collect(sk, splitEvery(enc, n));
      assert.deepEqual(got.map((m) => [m.ts, m.len, m.payload]), [[0x1234567, 400, p.toString('hex')]]);
    }
  });

  test('interleaved chunk streams', () => {
    const a = encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 5, payload: video }, 128, 6);
    const b = encodeRtmpMessage({ type: 8, streamId: 1, timestamp: 6, payload: audio }, 128, 4);
    // a's first chunk (12 + 128), then all of b, then a's continuations.
    const mixed = Buffer.concat([a.subarray(0, 140), b, a.subarray(140)]);
    const sk = new RtmpSkimmer();
    sk.assemble[9] = 1;
    sk.assemble[8] = 1;
    const got = collect(sk, [mixed]);
    assert.deepEqual(
      got.map((m) => [m.type, m.payload]),
      [
        [8, audio.toString('hex')],
        [9, video.toString('hex')],
      ],
    );
  });

  test('typed errors for bad input', () => {
    const noop = (): void => undefined;
    assert.throws(() => new RtmpSkimmer().feed(Buffer.from('4400000a00000208', 'hex'), noop), BenchError); // fmt 1 first
    const big = encodeRtmpMessage({ type: 9, streamId: 1, timestamp: 0, payload: bytes(2000, 5) }, 128, 6);
    const sk = new RtmpSkimmer({ maxAssembled: 1000 });
    sk.assemble[9] = 1;
    assert.throws(() => sk.feed(big, noop), /exceeds/);
    assert.throws(() => new RtmpSkimmer().feed(setChunkSizeMessage(1).fill(0, 12), noop), /chunk size 0/);
    // A huge skimmed message allocates nothing: only its header is parsed.
    const huge = Buffer.from('060000000fffff0901000000', 'hex');
    assert.doesNotThrow(() => new RtmpSkimmer().feed(huge, noop));
  });

  test('fuzz: random and mutated input parses or throws BenchError, quickly', () => {
    const r = rng(42);
    const start = process.cpuUsage(); // CPU, not wall time: a busy machine must not fail it
    for (let i = 0; i < 3000; i++) {
      const base = i % 2 === 0 ? Buffer.from(stream) : Buffer.alloc(200);
      if (i % 2 === 0) for (let k = 0; k < 4; k++) base[Math.floor(r() * base.length)] = Math.floor(r() * 256);
      else for (let k = 0; k < base.length; k++) base[k] = Math.floor(r() * 256);
      const sk = new RtmpSkimmer({ maxAssembled: 1 << 20 });
      sk.assemble[9] = 1;
      sk.assemble[20] = 1;
      try {
        for (const p of splitEvery(base, 1 + Math.floor(r() * 40))) sk.feed(p, () => undefined);
      } catch (e) {
        assert.ok(e instanceof BenchError, String(e));
      }
    }
    assert.ok(cpuMsSince(start) < 5000);
  });
});
