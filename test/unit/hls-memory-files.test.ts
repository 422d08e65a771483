import { test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { buildVhostConfig } from '../../src/config/vhost-config.js';
import { parseConfigTree } from '../../src/config/parser.js';
import { silentLogger } from '../../src/log/logger.js';
import { HlsTsStream } from '../../src/outputs/hls/hls-ts-stream.js';
import type { FileStore } from '../../src/outputs/segment/file-store.js';
import { MemoryBody } from '../../src/outputs/segment/memory-body.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]);

class MemoryStore implements FileStore {
  readonly files = new Map<string, Buffer>();
  async write(path: string, chunks: readonly Buffer[] | string): Promise<void> {
    this.files.set(path, typeof chunks === 'string' ? Buffer.from(chunks) : Buffer.concat(chunks as Buffer[]));
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
}

function stream(body: string, memory: Map<string, MemoryBody>): { s: HlsTsStream; store: MemoryStore } {
  const root = parseConfigTree(`vhost v { hls { enabled on; hls_path /tmp/hlsmem; ${body} } }`, 'test.conf');
  const cfg = buildVhostConfig('v', root.children.find((d) => d.name === 'vhost'), {}, 60000).hls;
  const store = new MemoryStore();
  const s = new HlsTsStream('v', 'live', 'x', cfg, {
    store,
    log: silentLogger(),
    notify: () => undefined,
    publisher: () => ({ param: '', tcUrl: '' }),
    memory: {
      set: (abs, b) => memory.set(abs, b),
      delete: (abs, b) => {
        if (memory.get(abs) === b) memory.delete(abs);
      },
    },
  });
  s.onPublish();
  s.onFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null));
  s.onFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null));
  return { s, store };
}

/** `seconds` of 25 fps video with a keyframe every second. */
function feed(s: HlsTsStream, seconds: number): void {
  for (let t = 0; t < seconds * 1000; t += 40) {
    const key = t % 1000 === 0;
    s.onFrame(new MediaFrame('video', 'H264', t, t, key, false, Buffer.from([0, 0, 0, 3, key ? 0x65 : 0x41, 1, 2]), null));
  }
}

test('classic HLS keeps the newest segments in memory (at least 4 and the last 20 s), the bytes of the files', async () => {
  const memory = new Map<string, MemoryBody>();
  const { s, store } = stream('hls_fragment 1; hls_window 60;', memory);
  feed(s, 40);
  await s.io.idle();
  assert.equal(s.window.length, 39);
  // 1 s segments: the last 20 s are in memory, the older ones only on disk.
  assert.equal(memory.size, 20);
  const newest = s.window[s.window.length - 1]!;
  const body = memory.get(newest.abs)!;
  assert.ok(body.data.equals(store.files.get(newest.abs)!));
  assert.equal(body.headers['Content-Length'], body.data.length);
  assert.equal(body.headers['Content-Type'], 'video/MP2T');
  assert.match(String(body.headers['Cache-Control']), /^public, max-age=120, immutable$/);
  assert.ok(!memory.has(s.window[0]!.abs));
  // The playlist as written, as one response.
  assert.ok(s.playlistBody!.data.equals(store.files.get(resolve('/tmp/hlsmem/live/x.m3u8'))!));
  assert.equal(s.playlistBody!.headers['Cache-Control'], 'public, max-age=1');
  await s.dispose('test');
  assert.equal(memory.size, 0);
  assert.equal(s.playlistBody, null);
});

test('long segments: the newest 4 stay in memory', async () => {
  const memory = new Map<string, MemoryBody>();
  const { s } = stream('hls_fragment 6; hls_window 120;', memory);
  feed(s, 61);
  await s.io.idle();
  assert.equal(s.window.length, 10);
  assert.equal(memory.size, 4);
  assert.match(String(s.playlistBody!.headers['Cache-Control']), /^public, max-age=3$/);
});

test('a memory answer: one Buffer, CORS only with an Origin, no body for HEAD', async () => {
  const body = new MemoryBody(Buffer.from('#EXTM3U\n'), 'application/vnd.apple.mpegurl', 'public, max-age=1');
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => body.send(req, res, true));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const ask = (method: string, headers: Record<string, string>): Promise<{ headers: http.IncomingHttpHeaders; body: string }> =>
    new Promise((resolveAsk, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method, headers, path: '/x.m3u8' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolveAsk({ headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    const plain = await ask('GET', {});
    assert.equal(plain.body, '#EXTM3U\n');
    assert.equal(plain.headers['content-length'], '8');
    assert.equal(plain.headers['cache-control'], 'public, max-age=1');
    assert.equal(plain.headers['access-control-allow-origin'], undefined);
    const cors = await ask('GET', { Origin: 'http://example.com' });
    assert.equal(cors.headers['access-control-allow-origin'], '*');
    assert.equal(cors.headers['content-type'], 'application/vnd.apple.mpegurl');
    const head = await ask('HEAD', {});
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], '8');
  } finally {
    server.close();
  }
});
