/**
 * SRT encryption through `sluice proxy`: the proxy relays the key material
 * untouched, so AES is end to end between caller and origin. An origin
 * with a passphrase takes an AES-256 publish and an AES-128 play through
 * the proxy; a caller with a wrong passphrase is refused by the origin,
 * through the proxy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { startProxy, type RunningProxy } from '../helpers/proxy-process.js';
import { probe, run, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'sluice-secret-1';

function originConfig(registerPort: number): string {
  return `
listen {{RTMP}};
srs_log_tank console;
srt_server { enabled on; listen {{SRT}}; passphrase ${SECRET}; }
heartbeat { enabled on; interval 1; url http://127.0.0.1:${registerPort}/api/v1/srs/register; device_id enc; ports on; }
vhost __defaultVhost__ {
  srt { enabled on; }
  play { gop_cache on; }
}
`;
}

test('AES through the proxy: the origin decrypts the publish and encrypts the play; a wrong passphrase is refused', { timeout: 180_000 }, async () => {
  let proxy: RunningProxy | null = null;
  let origin: RunningServer | null = null;
  let pub: Proc | null = null;
  try {
    proxy = await startProxy({ PROXY_LOAD_BALANCER_TYPE: 'memory' });
    const p = proxy;
    origin = await startServer({ config: originConfig(p.systemPort), extraEnv: { SRS_DEVICE_IP: '127.0.0.1' } });
    assert.ok(await waitFor(async () => ((await p.api('/api/v1/proxy/origins')).body.origins as unknown[]).length === 1, 20_000), 'the origin registered');
    const url = (query: string): string => `srt://127.0.0.1:${p.srtPort}?streamid=${query}`;
    pub = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-f', 'mpegts', url(`#!::r=live/enc,m=publish&passphrase=${SECRET}&pbkeylen=32`)], 90_000);
    await origin.waitForLog((l) => l.msg === 'SRT connection accepted', 20_000);
    const r = await probe(origin.rtmpUrl('live/enc'), 2);
    assert.deepEqual(r.streams.map((s) => s.codec_name).sort(), ['aac', 'h264'], 'the origin decrypted the publish');
    const s = await probe(url(`#!::r=live/enc,m=request&passphrase=${SECRET}&pbkeylen=16`), 3);
    assert.deepEqual(s.streams.map((x) => x.codec_name).sort(), ['aac', 'h264'], 'AES-128 play through the proxy');
    assert.ok(s.packets.filter((x) => s.streams[x.stream_index]?.codec_type === 'video').length >= 25);
    const wrong = run('ffprobe', ['-v', 'error', url('#!::r=live/enc,m=request&passphrase=wrong-secret-11')], 30_000);
    assert.notEqual(await wrong.done, 0, 'a wrong passphrase is refused');
    await origin.waitForLog((l) => l.msg === 'SRT connection refused', 10_000);
  } finally {
    await pub?.stop();
    await origin?.stop();
    await proxy?.stop();
  }
});
