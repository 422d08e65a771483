/**
 * sluice-ctl against a running server: lists the stream an ffmpeg publishes,
 * the clients, and kicks the publisher (ffmpeg exits).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../helpers/server-process.js';
import { publish } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

const CTL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main', 'ctl.js');

test('sluice-ctl lists streams and clients and kicks a publisher', async () => {
  const server = await startServer();
  const pub = publish(server.rtmpUrl('live/ctl'), { seconds: 30, size: '320x240' });
  try {
    // Until the API knows both codecs (what 'streams' prints), not a guessed 1.5 s.
    const ready = await waitFor(async () => {
      const { streams } = (await (await fetch(server.apiUrl('/api/v1/streams/'))).json()) as { streams: { url: string; video: { width: number } | null; audio: unknown }[] };
      return streams.some((st) => st.url === '/live/ctl' && st.video?.width === 320 && Boolean(st.audio));
    }, 15_000, 100);
    assert.ok(ready, 'the API shows the stream with its codecs');
    const ctl = (...a: string[]): { out: string; code: number | null } => {
      const r = spawnSync(process.execPath, [CTL, '--api', server.apiUrl(''), ...a], { encoding: 'utf8', timeout: 15_000 });
      return { out: r.stdout + r.stderr, code: r.status };
    };
    const streams = ctl('streams');
    assert.equal(streams.code, 0, streams.out);
    assert.match(streams.out, /\/live\/ctl\s+H264 320x240\s+AAC/);
    const clients = ctl('clients');
    const row = clients.out.split('\n').find((l) => l.includes('fmle-publish'));
    assert.ok(row, clients.out);
    const id = row.split(/\s+/)[0]!;
    const kicked = ctl('kick', id);
    assert.equal(kicked.code, 0, kicked.out);
    assert.match(kicked.out, new RegExp(`kicked ${id}`));
    const code = await pub.done;
    assert.notEqual(code, null, 'ffmpeg exited after the kick');
    assert.equal(ctl('kick', 'nosuchid').code, 1, 'an unknown id is an error');
  } finally {
    await pub.stop();
    await server.stop();
  }
});
