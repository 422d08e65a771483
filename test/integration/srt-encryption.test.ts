/**
 * SRT encryption against libsrt (Debian's FFmpeg): AES-CTR with the
 * server's passphrase, publish (AES-256) and play (AES-128); a wrong
 * passphrase and a caller without one are refused with the reasons libsrt
 * reports, and the server logs why; a publisher that refreshes its key in
 * the running connection (libsrt's kmrefreshrate) goes on decoding.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { probe, run, type Proc } from '../helpers/ffmpeg.js';

const SECRET = 'sluice-secret-1';
const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
srt_server { enabled on; listen {{SRT}}; passphrase ${SECRET}; }
vhost __defaultVhost__ {
  srt { enabled on; }
  play { gop_cache on; }
}
`;

let server: RunningServer;
let pub: Proc;

function url(query: string): string {
  return `srt://127.0.0.1:${server.port('SRT')}?streamid=${query}`;
}

before(async () => {
  server = await startServer({ config: CONFIG });
  pub = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '40', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-f', 'mpegts', url(`#!::r=live/enc,m=publish&passphrase=${SECRET}&pbkeylen=32`)], 70_000);
  await server.waitForLog((l) => l.msg === 'SRT connection accepted' && l['encrypted'] === true, 20_000);
});

after(async () => {
  await pub?.stop();
  await server?.stop();
});

test('an encrypted publisher is watched over RTMP and played encrypted over SRT', async () => {
  const r = await probe(server.rtmpUrl('live/enc'), 2);
  assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  const s = await probe(url(`#!::r=live/enc,m=request&passphrase=${SECRET}&pbkeylen=16`), 2);
  assert.deepEqual(s.streams.map((x) => x.codec_name).sort(), ['aac', 'h264']);
  assert.ok(s.packets.filter((p) => s.streams[p.stream_index]?.codec_type === 'video').length >= 25);
});

test('a wrong passphrase and a missing one are refused', async () => {
  for (const [query, why] of [[`#!::r=live/enc,m=request&passphrase=wrong-secret-11`, 'wrong passphrase'], ['#!::r=live/enc,m=request', 'no encryption from the caller, a passphrase is set']] as const) {
    const p = run('ffprobe', ['-v', 'error', url(query)], 20_000);
    assert.notEqual(await p.done, 0);
    await server.waitForLog((l) => l.msg === 'SRT connection refused' && l['reason'] === why, 10_000);
  }
});

test('a publisher that refreshes its stream key every 100 packets is still watched whole over RTMP', async () => {
  // libsrt switches between its even and odd key every kmrefreshrate packets, announcing each new key by KMREQ kmpreannounce packets ahead.
  const rekeying = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '40', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-f', 'mpegts', `${url(`#!::r=live/rekey,m=publish`)}&passphrase=${SECRET}&pbkeylen=16&kmrefreshrate=100&kmpreannounce=20`], 70_000);
  try {
    await server.waitForLog((l) => l.msg === 'SRT connection accepted' && String(l['streamid']).includes('live/rekey'), 20_000);
    // 8 s of the stream: a few hundred packets, so several key switches while the player decodes.
    const play = run('ffmpeg', ['-hide_banner', '-nostdin', '-i', server.rtmpUrl('live/rekey'), '-t', '8', '-f', 'null', '-'], 60_000);
    assert.equal(await play.done, 0, play.stderr().slice(-600));
    const frames = Number([...play.stderr().matchAll(/frame=\s*(\d+)/g)].pop()?.[1] ?? 0);
    assert.ok(frames >= 150, `decoded ${frames} of the 200 frames in 8 s across the key switches`);
  } finally {
    await rekeying.stop();
  }
});
