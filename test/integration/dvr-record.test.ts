/**
 * DVR with real clients: ffmpeg publishes, ffprobe decodes each recorded
 * file (codecs, size, duration within a GOP, frames), the segment plan's
 * files are counted, on_dvr bodies reach a callback server, hostile names
 * stay inside dvr_path's directory, and the API starts and stops a recording.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, sleep } from '../helpers/ffmpeg.js';
import { filesUnder, probeFile } from '../helpers/dvr-probe.js';

const FULL = { Authorization: 'Bearer full-tok', 'Content-Type': 'application/json' };
const RO = { Authorization: 'Bearer ro-tok', 'Content-Type': 'application/json' };

let server: RunningServer;
let hookServer: http.Server;
const dvrCalls: Record<string, unknown>[] = [];

async function waitFor<T>(pred: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

before(async () => {
  hookServer = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      dvrCalls.push(JSON.parse(text || '{}') as Record<string, unknown>);
      // A refusal: logged by the server, the file is kept.
      res.end(dvrCalls.length === 1 ? '{"code":403}' : '0');
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  const hooks = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/dvr`;
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; auth { enabled on; username admin; password pw; token full-tok; readonly_token ro-tok; } }
vhost __defaultVhost__ {
  dvr { enabled on; dvr_apply all; dvr_plan session; dvr_path ./rec/[app]/[stream].[timestamp].flv; }
  http_hooks { enabled on; on_dvr ${hooks}; }
}
vhost seg.test {
  dvr { enabled on; dvr_apply live/seg; dvr_plan segment; dvr_duration 2; dvr_wait_keyframe on; dvr_path ./seg/[vhost]/[app]/[stream]-[2006][01][02]-[timestamp_ms].mp4; }
}
vhost api.test {
  dvr { enabled off; dvr_path ./api/[app]/[stream].mp4; }
}
`,
  });
});

after(async () => {
  await server?.stop();
  hookServer?.close();
});

test('session plan, FLV: one file per publish, H.264 + AAC, duration within a GOP, every frame decodes; on_dvr body', async () => {
  const pub = publish(server.rtmpUrl('live/flv?token=t1'), { seconds: 4, gop: 25 });
  assert.equal(await pub.done, 0, pub.stderr());
  const call = await waitFor(() => dvrCalls.find((c) => c.stream === 'flv'), 20_000, 'on_dvr for live/flv');
  assert.equal(call.action, 'on_dvr');
  assert.equal(call.app, 'live');
  assert.equal(call.vhost, '__defaultVhost__');
  assert.equal(call.param, '?token=t1');
  assert.equal(call.stream_url, '/live/flv');
  assert.equal(call.cwd, server.dir);
  assert.match(String(call.file), /^\.\/rec\/live\/flv\.\d{13}\.flv$/);
  for (const k of ['server_id', 'service_id', 'client_id', 'ip', 'tcUrl']) assert.ok(k in call, k);
  // The first on_dvr was refused: logged, and the file is still there.
  await server.waitForLog((l) => l.msg === 'HTTP callback refused or failed' && l['hook'] === 'on_dvr');
  const files = filesUnder(join(server.dir, 'rec/live')).filter((f) => f.startsWith('flv.'));
  assert.equal(files.length, 1, files.join(' '));
  const p = await probeFile(join(server.dir, String(call.file)));
  assert.equal(p.video?.codec, 'h264');
  assert.equal(p.video?.width, 320);
  assert.equal(p.video?.height, 240);
  assert.equal(p.audio?.codec, 'aac');
  assert.ok(Math.abs(p.duration - 4) <= 1.1, `duration ${p.duration}`);
  assert.ok(p.video!.frames >= 75 && p.video!.frames <= 101, `video frames ${p.video!.frames}`);
});

test('segment plan, MP4: a new file every dvr_duration at a keyframe, each with its headers, lengths add up', async () => {
  const pub = publish(server.rtmpUrl('live/seg?vhost=seg.test'), { seconds: 7, gop: 25 });
  assert.equal(await pub.done, 0, pub.stderr());
  const dir = join(server.dir, 'seg/seg.test/live');
  // Three files of about 2 s and the rest; the last is closed on unpublish.
  const files = await waitFor(() => {
    const f = filesUnder(dir);
    return f.length >= 3 && f.every((x) => x.endsWith('.mp4')) ? f.sort() : false;
  }, 20_000, 'segment files');
  assert.ok(files.length >= 3 && files.length <= 4, files.join(' '));
  for (const f of files) assert.match(f, /^seg-\d{8}-\d{13}\.mp4$/);
  let total = 0;
  for (const f of files.slice(0, -1)) {
    const p = await probeFile(join(dir, f));
    assert.equal(p.video?.codec, 'h264', f);
    assert.equal(p.audio?.codec, 'aac', f);
    assert.ok(p.duration >= 1.9 && p.duration <= 3.1, `${f}: ${p.duration}`);
    assert.ok(Math.abs(p.video!.frames - p.duration * 25) <= 3, `${f}: ${p.video!.frames} frames in ${p.duration}s`);
    total += p.duration;
  }
  total += (await probeFile(join(dir, files[files.length - 1]!))).duration;
  assert.ok(Math.abs(total - 7) <= 1.2, `total ${total}`);
});

test('hostile stream names never write outside the dvr_path directory', async () => {
  for (const name of ['..%2fx', '%2e%2e', '%2e%2e%2f%2e%2e%2fescape']) {
    const pub = publish(server.rtmpUrl(`live/${name}`), { seconds: 2, gop: 25, audio: false });
    await pub.done;
  }
  // Every recording closed (the files are renamed) before the tree is looked at.
  await waitFor(async () => ((await (await fetch(server.apiUrl('api/v1/dvrs'), { headers: RO })).json()) as { dvrs: unknown[] }).dvrs.length === 0, 20_000, 'no open recording');
  await waitFor(() => filesUnder(join(server.dir, 'rec')).every((f) => !f.endsWith('.tmp')), 20_000, 'renamed files');
  const outside = filesUnder(server.dir).filter((f) => !f.startsWith('rec/') && !f.startsWith('seg/') && !f.startsWith('api/') && !/\.(conf|log|pid|id)$/.test(f) && !f.startsWith('objs/'));
  assert.deepEqual(outside, []);
  for (const f of filesUnder(join(server.dir, 'rec'))) assert.ok(!f.includes('..'), f);
});

test('API: start and stop recording a live stream without touching the config; reads cannot', async () => {
  const pub = publish(server.rtmpUrl('live/api?vhost=api.test'), { seconds: 12, gop: 25 });
  try {
    await waitFor(async () => {
      const r = (await (await fetch(server.apiUrl('api/v1/streams/'), { headers: RO })).json()) as { streams: { name: string; publish: { active: boolean } }[] };
      return r.streams.some((s) => s.name === 'api' && s.publish.active);
    }, 20_000, 'live/api published');
    const body = JSON.stringify({ action: 'start', stream: 'live/api', vhost: 'api.test' });
    const denied = await fetch(server.apiUrl('api/v1/dvrs'), { method: 'POST', headers: RO, body });
    assert.equal(denied.status, 403);
    const start = (await (await fetch(server.apiUrl('api/v1/dvrs'), { method: 'POST', headers: FULL, body })).json()) as { code: number };
    assert.equal(start.code, 0);
    const again = (await (await fetch(server.apiUrl('api/v1/dvrs'), { method: 'POST', headers: FULL, body })).json()) as { code: number; error: string };
    assert.equal(again.error, 'already recording');
    const rec = await waitFor(async () => {
      const r = (await (await fetch(server.apiUrl('api/v1/dvrs'), { headers: RO })).json()) as { dvrs: { stream: string; by: string; file: string; bytes: number; duration_ms: number }[] };
      const d = r.dvrs.find((x) => x.stream === 'api');
      return d && d.duration_ms >= 3000 ? d : false;
    }, 20_000, 'the API recording to reach 3 s');
    assert.equal(rec.by, 'api');
    assert.equal(rec.file, './api/live/api.mp4');
    assert.ok(rec.bytes > 10_000, String(rec.bytes));
    const stop = (await (await fetch(server.apiUrl('api/v1/dvrs'), { method: 'POST', headers: FULL, body: JSON.stringify({ action: 'stop', stream: 'live/api', vhost: 'api.test' }) })).json()) as { code: number };
    assert.equal(stop.code, 0);
    const p = await probeFile(join(server.dir, 'api/live/api.mp4'));
    assert.equal(p.video?.codec, 'h264');
    assert.equal(p.audio?.codec, 'aac');
    assert.ok(p.duration >= 2.5 && p.duration <= 6, `duration ${p.duration}`);
    const none = (await (await fetch(server.apiUrl('api/v1/dvrs'), { method: 'POST', headers: FULL, body: JSON.stringify({ action: 'start', stream: 'live/nobody', vhost: 'api.test' }) })).json()) as { code: number };
    assert.equal(none.code, 2048);
  } finally {
    await pub.stop();
  }
});
