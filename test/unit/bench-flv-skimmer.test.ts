import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FlvSkimmer } from '../../bench/flv-skimmer.js';
import { BenchError } from '../../bench/bench-error.js';
import { encodeFlvHeader, encodeFlvTag } from '../../src/format/flv-tag.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 17 + seed) & 0xff;
  return b;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const video = bytes(1000, 1);
const audio = bytes(40, 2);
const flv = Buffer.concat([
  encodeFlvHeader(true, true),
  encodeFlvTag(18, 0, bytes(30, 3)),
  encodeFlvTag(9, 0x01020304, video), // timestamp with the extended byte
  encodeFlvTag(8, 20, audio),
  encodeFlvTag(8, 21, Buffer.alloc(0)),
]);

/** HTTP/1.1 chunked body with chunk boundaries every `n` bytes of FLV. */
function chunked(body: Buffer, n: number): Buffer {
  const parts: Buffer[] = [Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n')];
  for (let i = 0; i < body.length; i += n) {
    const c = body.subarray(i, i + n);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

type Tag = [number, number, number, string | null];

function run(sk: FlvSkimmer, input: Buffer, split: number): Tag[] {
  const out: Tag[] = [];
  for (let i = 0; i < input.length; i += split) {
    const piece = Buffer.from(input.subarray(i, i + split));
    sk.feed(piece, (type, ts, size, body) => out.push([type, ts, size, body ? body.toString('hex') : null]));
    piece.fill(0xee);
  }
  return out;
}

const WANT: Tag[] = [
  [18, 0, 30, null],
  [9, 0x01020304, 1000, video.toString('hex')],
  [8, 20, 40, null],
  [8, 21, 0, null],
];

describe('FlvSkimmer', () => {
  test('chunked HTTP response: same tags for every split and chunking', () => {
    for (const chunk of [1, 7, 15, 100, 5000]) {
      for (const split of [1, 3, 16, 64, 100000]) {
        const sk = new FlvSkimmer();
        sk.assemble[9] = 1;
        assert.deepEqual(run(sk, chunked(flv, chunk), split), WANT, `chunk ${chunk} split ${split}`);
        assert.equal(sk.status, 200);
      }
    }
  });

  test('identity response (HTTP/1.0 style) and the end of a chunked body', () => {
    const sk = new FlvSkimmer();
    sk.assemble[9] = 1;
    const head = Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: video/x-flv\r\n\r\n');
    assert.deepEqual(run(sk, Buffer.concat([head, flv]), 9), WANT);
    const ended = new FlvSkimmer();
    run(ended, Buffer.concat([chunked(flv, 50), Buffer.from('0\r\n\r\n')]), 13);
    assert.equal(ended.ended, true);
  });

  test('without HTTP (a raw FLV stream)', () => {
    const sk = new FlvSkimmer({ http: false });
    sk.assemble[9] = 1;
    assert.deepEqual(run(sk, flv, 5), WANT);
  });

  test('typed errors', () => {
    const noop = (): void => undefined;
    assert.throws(() => new FlvSkimmer().feed(Buffer.from('HTTP/1.1 404 Not Found\r\n\r\n'), noop), /status 404/);
    assert.throws(() => new FlvSkimmer().feed(Buffer.from('SSH-2.0\r\n\r\n'), noop), BenchError);
    assert.throws(() => new FlvSkimmer({ http: false }).feed(Buffer.from('GIF89a\0\0\0\x09'), noop), /not an FLV/);
    assert.throws(() => new FlvSkimmer().feed(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), noop), /chunk size/);
    assert.throws(() => new FlvSkimmer().feed(Buffer.alloc(20000, 0x41), noop), /head too large/);
    const sk = new FlvSkimmer({ http: false, maxAssembled: 100 });
    sk.assemble[9] = 1;
    assert.throws(() => sk.feed(flv, noop), /exceeds/);
  });

  test('fuzz: random and mutated input parses or throws BenchError, quickly', () => {
    const r = rng(7);
    const valid = chunked(flv, 64);
    const start = process.cpuUsage(); // CPU, not wall time: a busy machine must not fail it
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(valid);
      const flips = i % 3 === 0 ? b.length : 3;
      for (let k = 0; k < flips; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      const sk = new FlvSkimmer({ maxAssembled: 1 << 20 });
      sk.assemble[9] = 1;
      try {
        run(sk, b, 1 + Math.floor(r() * 50));
      } catch (e) {
        assert.ok(e instanceof BenchError, String(e));
      }
    }
    assert.ok(cpuMsSince(start) < 5000);
  });
});
