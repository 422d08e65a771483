/**
 * SRT with `--workers 2`: one SRT connection's datagrams must all reach the
 * worker that did its handshake. node:cluster shares a UDP port between
 * workers unless the bind is exclusive, and the kernel then hands each
 * datagram to any worker, which breaks every SRT connection; so one worker
 * holds the SRT port (the others log that they serve no SRT), and an SRT
 * publisher is played back over SRT and over HLS... from that worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { probe, run } from '../helpers/ffmpeg.js';
import { until } from '../helpers/rtc-browser.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
srt_server { enabled on; listen {{SRT}}; }
vhost __defaultVhost__ {
  srt { enabled on; }
  play { gop_cache on; }
}
`;

test('--workers 2: an SRT publisher is played back over SRT', { timeout: 120_000 }, async () => {
  const server = await startServer({ config: CONFIG, args: ['--workers', '2'] });
  const url = (id: string): string => `srt://127.0.0.1:${server.port('SRT')}?streamid=${id}`;
  const pub = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '25', '-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', url('#!::r=live/s,m=publish')], 90_000);
  try {
    await until(async () => server.logs.filter((l) => l.msg === 'SRT server listening' || l.msg === 'SRT port held by another worker').length, (n) => n >= 2, 20_000);
    assert.equal(server.logs.filter((l) => l.msg === 'SRT server listening').length, 1, 'one worker holds the SRT port');
    await server.waitForLog((l) => l.msg === 'SRT connection accepted', 20_000);
    const r = await probe(url('#!::r=live/s,m=request'), 3);
    const v = r.streams.find((s) => s.codec_type === 'video');
    assert.equal(v?.codec_name, 'h264', JSON.stringify(r.streams));
    assert.equal(v?.width, 320);
    const frames = r.packets.filter((p) => p.stream_index === r.streams.indexOf(v!)).length;
    assert.ok(frames > 40, `video packets over SRT: ${frames}`);
  } finally {
    await pub.stop();
    await server.stop();
  }
});
