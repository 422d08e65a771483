/**
 * WebRTC → RTMP: a browser publishes by WHIP (H.264 + Opus) with
 * rtc_to_rtmp on; ffprobe reads the stream as RTMP and as HTTP-FLV and finds
 * H.264 video and AAC audio (Opus transcoded), with monotonic timestamps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { probe, monotonicDts } from '../helpers/ffmpeg.js';
import { launchChromium, openPage, whipPublish, rtcConfig, RTC_PORT } from '../helpers/rtc-browser.js';

test('browser WHIP → ffprobe RTMP and HTTP-FLV: h264 + aac', { timeout: 60_000 }, async () => {
  const server = await startServer({ config: rtcConfig(RTC_PORT, 'rtc { enabled on; rtc_to_rtmp on; pli_for_rtmp 1; }') });
  const browser = await launchChromium();
  try {
    const api = server.apiUrl('').replace(/\/$/, '');
    const page = await openPage(browser, api);
    await whipPublish(page, `${api}/rtc/v1/whip/?app=live&stream=fromweb`);
    await server.waitForLog((l) => l.msg === 'rtc-publish connected', 10_000);
    // Wait until the bridge has produced both sequence headers.
    await server.waitForLog((l) => l.msg === 'rtc_to_rtmp: H.264 sequence header', 10_000);
    await server.waitForLog((l) => l.msg === 'rtc_to_rtmp: AAC sequence header', 10_000);
    const rtmp = await probe(server.rtmpUrl('live/fromweb'), 3);
    const v = rtmp.streams.find((s) => s.codec_type === 'video');
    const a = rtmp.streams.find((s) => s.codec_type === 'audio');
    assert.equal(v?.codec_name, 'h264', JSON.stringify(rtmp.streams));
    assert.equal(a?.codec_name, 'aac', JSON.stringify(rtmp.streams));
    assert.equal(v?.width, 640);
    const flv = await probe(server.httpUrl('live/fromweb.flv'), 3);
    assert.deepEqual(flv.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    const vIndex = flv.streams.findIndex((s) => s.codec_type === 'video');
    const videoPackets = flv.packets.filter((p) => p.stream_index === vIndex);
    assert.ok(videoPackets.length > 20, `video packets over HTTP-FLV: ${videoPackets.length}`);
    const mono = monotonicDts(videoPackets);
    assert.ok(mono.ok, mono.detail);
  } finally {
    await browser.close();
    await server.stop();
  }
});
