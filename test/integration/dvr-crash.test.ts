/**
 * DVR and the end of the server: after `kill -9` mid-recording the files on
 * disk (still `.tmp`, SRS's name for a file being written) play up to within
 * a few seconds of the kill, FLV and MP4 alike; a SIGTERM finalizes every
 * open file (renamed, MP4 duration patched) before the process exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { filesUnder, probeFile } from '../helpers/dvr-probe.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
exporter { enabled on; listen {{EXPORTER}}; }
vhost __defaultVhost__ {
  dvr { enabled on; dvr_apply all; dvr_path ./rec/[app]/[stream].flv; }
}
vhost mp4.test {
  dvr { enabled on; dvr_apply all; dvr_path ./rec/[app]/[stream].mp4; }
}
`;

interface Dvrs {
  dvrs: { stream: string; duration_ms: number }[];
}

/** Publishes live/f (FLV) and live/m (MP4) and waits until both recordings span `ms`. */
async function recordBoth(server: RunningServer, ms: number): Promise<{ stop: () => Promise<unknown> }> {
  const a = publish(server.rtmpUrl('live/f'), { seconds: 30, gop: 25 });
  const b = publish(server.rtmpUrl('live/m?vhost=mp4.test'), { seconds: 30, gop: 25 });
  const ok = await waitFor(async () => {
    const r = (await (await fetch(server.apiUrl('api/v1/dvrs'))).json()) as Dvrs;
    return r.dvrs.length === 2 && r.dvrs.every((d) => d.duration_ms >= ms);
  }, 30_000, 100);
  assert.ok(ok, `both recordings should reach ${ms} ms`);
  return { stop: () => Promise.all([a.stop(), b.stop()]) };
}

test('kill -9 mid-recording: the .tmp FLV and MP4 files play up to within a few seconds of the kill', async () => {
  const server = await startServer({ config: CONFIG });
  const pubs = await recordBoth(server, 4000);
  try {
    server.proc.kill('SIGKILL');
    await server.exited;
  } finally {
    await pubs.stop();
  }
  try {
    await probeKilled(server);
  } finally {
    await server.stop();
  }
});

async function probeKilled(server: RunningServer): Promise<void> {
  for (const f of ['rec/live/f.flv.tmp', 'rec/live/m.mp4.tmp']) {
    const p = await probeFile(join(server.dir, f));
    assert.equal(p.video?.codec, 'h264', f);
    assert.equal(p.audio?.codec, 'aac', f);
    // Recorded ≥ 4 s when killed; at most about a second (one MP4 fragment) is lost.
    assert.ok(p.video!.frames >= 3 * 25, `${f}: ${p.video!.frames} frames decoded`);
    if (f.endsWith('.flv.tmp')) assert.ok(p.duration >= 3, `${f}: duration ${p.duration}`);
  }
}

test('SIGTERM finalizes every open file: renamed, playable, MP4 with its duration', async () => {
  const server = await startServer({ config: CONFIG });
  const pubs = await recordBoth(server, 3000);
  try {
    // The exporter counts the recordings and their bytes.
    const text = await (await fetch(`http://127.0.0.1:${server.port('EXPORTER')}/metrics`)).text();
    assert.match(text, /^sluice_dvr_recordings 2$/m);
    assert.ok(Number(/^sluice_dvr_bytes_total (\d+)/m.exec(text)?.[1]) > 50_000, text.split('\n').filter((l) => l.startsWith('sluice_dvr')).join('\n'));
    server.signal('SIGTERM');
    await server.exited;
  } finally {
    await pubs.stop();
  }
  try {
    await probeFinalized(server);
  } finally {
    await server.stop();
  }
});

async function probeFinalized(server: RunningServer): Promise<void> {
  assert.deepEqual(filesUnder(join(server.dir, 'rec')).sort(), ['live/f.flv', 'live/m.mp4']);
  assert.ok(!existsSync(join(server.dir, 'rec/live/m.mp4.tmp')));
  for (const f of ['rec/live/f.flv', 'rec/live/m.mp4']) {
    const p = await probeFile(join(server.dir, f));
    assert.equal(p.video?.codec, 'h264', f);
    assert.equal(p.video?.width, 320, f);
    assert.equal(p.audio?.codec, 'aac', f);
    assert.ok(p.duration >= 2.5 && p.duration < 15, `${f}: duration ${p.duration}`);
    assert.ok(Math.abs(p.video!.frames - p.duration * 25) <= 13, `${f}: ${p.video!.frames} frames for ${p.duration} s`);
  }
}
