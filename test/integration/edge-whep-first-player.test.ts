/**
 * An edge whose first player of a stream is a WHEP player pulls the stream
 * for it: the WHEP query (`app=live&stream=w`, kept without its `?`) once
 * travelled upstream glued to the stream name, so the origin was asked for
 * `wapp=live&stream=w`, had no such stream, and the player got nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { publish } from '../helpers/ffmpeg.js';
import { until, rtcEdgeConfig } from '../helpers/rtc-browser.js';
import { ndcWhep } from '../helpers/rtc-ndc-client.js';

const ORIGIN = `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
vhost __defaultVhost__ { play { gop_cache on; } }
`;

test('edge: a WHEP player as the first player of a stream gets its video and audio', { timeout: 90_000 }, async () => {
  const origin = await startServer({ config: ORIGIN });
  const pub = publish(origin.rtmpUrl('live/w'), { seconds: 60, gop: 25 });
  try {
    await origin.waitForLog((l) => l.msg === 'publish started', 15_000);
    const edge = await startServer({ config: rtcEdgeConfig(origin.rtmpPort) });
    try {
      const p = await ndcWhep(edge.apiUrl('rtc/v1/whep/?app=live&stream=w'));
      try {
        const played = await origin.waitForLog((l) => l.msg === 'play started', 15_000);
        assert.equal(played['stream'], '/live/w', `the origin is asked for the stream itself: ${JSON.stringify(played)}`);
        await until(async () => p, (x) => x.video.packets > 100 && x.audio.packets > 20, 30_000);
        assert.ok(p.video.packets > 100 && p.audio.packets > 20, `video ${p.video.packets}, audio ${p.audio.packets} packets`);
      } finally {
        p.close();
      }
    } finally {
      await edge.stop();
    }
  } finally {
    await pub.stop();
    await origin.stop();
  }
});
