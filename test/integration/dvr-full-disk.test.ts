/**
 * DVR on a really full disk: dvr_path on a 4 MB tmpfs, filled up while
 * ffmpeg publishes. The recording's file ends there (kept, renamed, playable,
 * announced by on_dvr) with one error line; players of the stream go on; a
 * new file is recorded once the space is back.
 *
 * Mounting a tmpfs needs root (CI runs as root); elsewhere the test is
 * skipped with the reason. The mount is removed after the test, on failure
 * too, and at process exit. (Same approach as hls-full-disk.test.ts.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type LogLine, type RunningServer } from '../helpers/server-process.js';
import { decodeFrames, publish, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { fillDisk, mountTmpfs } from '../helpers/tmpfs.js';
import { probeFile } from '../helpers/dvr-probe.js';

const disk = mountTmpfs(4, 'sluice-dvr-fulldisk-');
const mnt = disk.dir;
const skip = disk.skip;
const cleanupMount = disk.cleanup;

let server: RunningServer | undefined;
let live: Proc | undefined;
let hookServer: http.Server | undefined;

after(async () => {
  try {
    await live?.stop();
    await server?.stop();
    hookServer?.close();
  } finally {
    cleanupMount();
  }
});

test('DVR on a full disk: the file ends playable with one error line and on_dvr, players go on, a new file once space is back', { skip: skip ?? false, timeout: 120_000 }, async () => {
  const calls: Record<string, unknown>[] = [];
  hookServer = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      calls.push(JSON.parse(text || '{}') as Record<string, unknown>);
      res.end('0');
    });
  });
  await new Promise<void>((r) => hookServer!.listen(0, '127.0.0.1', r));
  const hooks = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/dvr`;
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  dvr { enabled on; dvr_path ${mnt}/[app]/[stream].[timestamp].flv; }
  http_hooks { enabled on; on_dvr ${hooks}; }
}
`,
  });
  live = publish(server.rtmpUrl('live/full'), { seconds: 60, gop: 25 });
  const recording = async (ms: number): Promise<boolean> => {
    const r = (await (await fetch(server!.apiUrl('api/v1/dvrs'))).json()) as { dvrs: { duration_ms: number; error: string | null }[] };
    return r.dvrs.length === 1 && r.dvrs[0]!.duration_ms >= ms && r.dvrs[0]!.error === null;
  };
  assert.ok(await waitFor(() => recording(1500), 30_000, 100), 'recording started');

  const isError = (l: LogLine): boolean => l.level === 50 && /DVR write failed/.test(l.msg);
  const failed = server.waitForLog(isError, 30_000);
  const filler = join(mnt, 'filler');
  fillDisk(filler);
  await failed;
  // The end is visible to the hook, and the file cut short plays.
  assert.ok(await waitFor(() => calls.length === 1, 20_000, 50), 'on_dvr for the file cut short');
  const first = await probeFile(String(calls[0]!.file));
  assert.equal(first.video?.codec, 'h264');
  assert.ok(first.video!.frames >= 25, `${first.video!.frames} frames in the file cut short`);
  // The stream and its players go on.
  const play = await decodeFrames(server.httpUrl('/live/full.flv'), 2);
  assert.ok(play.frames >= 25, `a player decoded ${play.frames} frames while the disk was full`);

  const back = server.waitForLog((l) => /DVR writes work again/.test(l.msg), 40_000);
  rmSync(filler);
  await back;
  assert.ok(await waitFor(() => recording(1000), 30_000, 100), 'a new file is recorded');
  assert.equal(server.logs.filter(isError).length, 1, 'one error line for the burst');
  await live.stop();
  live = undefined;
  assert.ok(await waitFor(() => calls.length === 2, 20_000, 50), 'on_dvr for the new file');
  const second = await probeFile(String(calls[1]!.file));
  assert.equal(second.video?.codec, 'h264');
  assert.equal(second.audio?.codec, 'aac');
  assert.ok(second.duration >= 0.9, `duration ${second.duration}`);
});
