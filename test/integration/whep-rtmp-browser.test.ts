/**
 * RTMP → WebRTC: ffmpeg publishes H.264 + AAC by RTMP, a browser plays by
 * WHEP: H.264 frames decode and the AAC audio arrives transcoded to Opus.
 * Also: with rtmp_to_rtc off, WHEP play of an RTMP stream is refused (5021).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { publish, sleep } from '../helpers/ffmpeg.js';
import { launchChromium, openPage, whepPlay, playStats, until, rtcConfig, RTC_PORT } from '../helpers/rtc-browser.js';

test('ffmpeg RTMP → browser WHEP: H.264 decodes, AAC arrives as Opus', { timeout: 60_000 }, async () => {
  const server = await startServer({ config: rtcConfig(RTC_PORT, 'rtc { enabled on; rtmp_to_rtc on; }') });
  const ff = publish(server.rtmpUrl('live/bridge'), { seconds: 25, gop: 25, size: '640x360' });
  const browser = await launchChromium();
  try {
    await server.waitForLog((l) => l.msg === 'publish started', 10_000);
    const api = server.apiUrl('').replace(/\/$/, '');
    const page = await openPage(browser, api);
    await whepPlay(page, `${api}/rtc/v1/whep/?app=live&stream=bridge`);
    const s = await until(() => playStats(page), (v) => v.framesDecoded > 40 && v.peak > 0.05 && v.audioPackets > 50, 20_000);
    assert.ok(s.framesDecoded > 40, `frames decoded ${JSON.stringify(s)}`);
    assert.equal(s.frameWidth, 640);
    assert.match(s.videoCodec, /H264/i);
    assert.match(s.audioCodec, /opus/i);
    assert.ok(s.audioPackets > 50, `Opus packets ${s.audioPackets}`);
    assert.ok(s.peak > 0.05, `audio is not silent (peak ${s.peak})`);
  } finally {
    await browser.close();
    await ff.stop();
    await server.stop();
  }
});

test('WHEP of an RTMP stream with rtmp_to_rtc off is refused with 5021', { timeout: 30_000 }, async () => {
  const server = await startServer({ config: rtcConfig(RTC_PORT, 'rtc { enabled on; rtmp_to_rtc off; }') });
  const ff = publish(server.rtmpUrl('live/nobridge'), { seconds: 10 });
  try {
    await server.waitForLog((l) => l.msg === 'publish started', 10_000);
    const offer = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n';
    const r = await fetch(server.apiUrl('rtc/v1/whep/?app=live&stream=nobridge'), { method: 'POST', body: offer });
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { code: number }).code, 5021);
    // The legacy API answers {"code":400} on failure, as SRS does.
    const legacy = await fetch(server.apiUrl('rtc/v1/play/'), { method: 'POST', body: JSON.stringify({ sdp: offer, streamurl: 'webrtc://127.0.0.1/live/nobridge' }) });
    assert.deepEqual(await legacy.json(), { code: 400 });
    const redirect = await fetch(server.apiUrl('rtc/v1/whep?app=live'), { method: 'POST', body: offer, redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/rtc/v1/whep/?app=live');
    await sleep(10);
  } finally {
    await ff.stop();
    await server.stop();
  }
});
