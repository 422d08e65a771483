/**
 * WHIP/WHEP through `sluice proxy`: the offer is forwarded to the origin of
 * the stream, the answer comes back naming only the proxy's UDP port, and
 * the media flows browser ⇄ proxy ⇄ origin. The browser's offer carries no
 * candidates, so the origin cannot reach it directly: the relay is the only
 * path. ffmpeg publishes by RTMP through the proxy; Chromium plays by WHEP
 * through it; Chromium publishes by WHIP through it and ffprobe plays that
 * stream by RTMP through it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { startProxy } from '../helpers/proxy-process.js';
import { probe, publish, type Proc } from '../helpers/ffmpeg.js';
import { launchChromium, openPage, whepPlay, whipPublish, playStats, publishStats, until, RTC_PORT } from '../helpers/rtc-browser.js';
import { waitFor } from '../helpers/wait.js';

function originConfig(registerPort: number): string {
  return `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
rtc_server { enabled on; listen ${RTC_PORT}; candidate 127.0.0.1; }
heartbeat { enabled on; interval 1; url http://127.0.0.1:${registerPort}/api/v1/srs/register; device_id w1; ports on; }
vhost __defaultVhost__ {
  rtc { enabled on; rtmp_to_rtc on; rtc_to_rtmp on; }
  play { gop_cache on; }
}
`;
}

test('WHEP and WHIP through the proxy: the media goes through its one UDP port', { timeout: 120_000 }, async () => {
  const proxy = await startProxy({ PROXY_LOAD_BALANCER_TYPE: 'memory', PROXY_WEBRTC_SERVER: '127.0.0.1:0', PROXY_WEBRTC_CANDIDATE: '127.0.0.1' });
  const origin = await startServer({ config: originConfig(proxy.systemPort), extraEnv: { SRS_DEVICE_IP: '127.0.0.1' } });
  const browser = await launchChromium();
  let ff: Proc | null = null;
  try {
    assert.ok(await waitFor(async () => ((await proxy.api('/api/v1/proxy/origins')).body.origins as unknown[]).length === 1, 20_000), 'the origin registered');
    ff = publish(`rtmp://127.0.0.1:${proxy.rtmpPort}/live/w`, { seconds: 60, gop: 25, size: '640x360' });
    assert.ok(await waitFor(async () => ((await proxy.api('/api/v1/proxy/sessions')).body.rtmp_publish as number) === 1, 20_000), 'the RTMP publisher joined');
    await origin.waitForLog((l) => l.msg === 'publish started', 10_000);
    const page = await openPage(browser, origin.apiUrl('').replace(/\/$/, ''));
    const base = `http://127.0.0.1:${proxy.httpPort}`;
    await whepPlay(page, `${base}/rtc/v1/whep/?app=live&stream=w`, { stripOfferCandidates: true });
    const s = await until(() => playStats(page), (v) => v.framesDecoded > 40, 20_000);
    assert.ok(s.framesDecoded > 40, `frames decoded through the proxy ${JSON.stringify(s)}`);
    assert.equal(s.frameWidth, 640);
    assert.match(s.videoCodec, /H264/i);
    assert.ok(((await proxy.api('/api/v1/proxy/sessions')).body.rtc as number) >= 1, 'the relay holds the session');

    await whipPublish(page, `${base}/rtc/v1/whip/?app=live&stream=fromweb`, { stripOfferCandidates: true });
    const pub = await until(() => publishStats(page), (v) => v.framesEncoded > 50, 20_000);
    assert.ok(pub.framesEncoded > 50, JSON.stringify(pub));
    assert.ok(await waitFor(async () => ((await proxy.api('/api/v1/proxy/streams?key=__defaultVhost__/live/fromweb')).body.origin as string | null) === 'w1', 5000));
    const r = await probe(`rtmp://127.0.0.1:${proxy.rtmpPort}/live/fromweb`, 3);
    const v = r.streams.find((x) => x.codec_type === 'video');
    assert.equal(v?.codec_name, 'h264');
    assert.equal(v?.width, 640);
    assert.ok(r.packets.filter((p) => p.stream_index === r.streams.indexOf(v!)).length >= 20, 'video packets of the WHIP stream');
  } finally {
    await browser.close();
    await ff?.stop();
    await origin.stop();
    await proxy.stop();
  }
});
