/**
 * WebRTC over TCP (RFC 4571 framing, ICE-TCP): with `protocol tcp` the
 * answers offer only a passive TCP candidate, so a browser publishes by WHIP
 * and another page plays by WHEP through the TCP port (relayed to the one UDP
 * port inside the server). Both browser peers' selected candidate pairs are
 * TCP, and the player decodes frames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { launchChromium, openPage, whipPublish, whepPlay, playStats, selectedPair, until, rtcConfig, RTC_PORT } from '../helpers/rtc-browser.js';

test('WebRTC over TCP only: browser WHIP → browser WHEP, frames decode', { timeout: 60_000 }, async () => {
  const server = await startServer({ config: rtcConfig(RTC_PORT, 'rtc { enabled on; rtc_to_rtmp off; }', `protocol tcp; tcp { enabled on; listen {{RTC_TCP}}; }`) });
  const tcpPort = server.port('RTC_TCP');
  const browser = await launchChromium();
  try {
    await server.waitForLog((l) => l.msg === 'WebRTC server listening' && l.tcp === tcpPort, 5000);
    const api = server.apiUrl('').replace(/\/$/, '');

    // The answer carries the TCP candidate only.
    const pubPage = await openPage(browser, api);
    const location = await whipPublish(pubPage, `${api}/rtc/v1/whip/?app=live&stream=tcp`, { stripOfferCandidates: true });
    assert.ok(location.startsWith('/rtc/v1/whip/'), location);
    const answer = await pubPage.evaluate(() => (window as unknown as { pubPc: RTCPeerConnection }).pubPc.remoteDescription!.sdp);
    const cands = answer.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    assert.ok(cands.length > 0 && cands.every((l) => / tcp .* tcptype passive/.test(l) && l.includes(` ${tcpPort} typ host`)), cands.join('\n'));
    await server.waitForLog((l) => l.msg === 'rtc-publish connected', 15_000);

    const playPage = await openPage(browser, api);
    await whepPlay(playPage, `${api}/rtc/v1/whep/?app=live&stream=tcp`, { stripOfferCandidates: true });
    const st = await until(() => playStats(playPage), (s) => s.framesDecoded > 30 && s.audioPackets > 20, 25_000);
    assert.ok(st.framesDecoded > 30, `frames decoded over TCP: ${JSON.stringify(st)}`);
    assert.ok(st.audioPackets > 20, `audio packets over TCP: ${st.audioPackets}`);
    assert.match(st.videoCodec, /H264/i);

    for (const [page, which] of [[pubPage, 'pubPc'], [playPage, 'playPc']] as const) {
      const pair = await selectedPair(page, which);
      assert.ok(pair, `${which}: a selected candidate pair`);
      assert.equal(pair.localProtocol, 'tcp', `${which}: ${JSON.stringify(pair)}`);
      assert.equal(pair.remotePort, tcpPort, `${which}: ${JSON.stringify(pair)}`);
    }
    const later = await until(() => playStats(playPage), (s) => s.framesDecoded > st.framesDecoded + 30, 10_000);
    assert.ok(later.framesDecoded > st.framesDecoded + 30, 'frames keep decoding over TCP');
  } finally {
    await browser.close();
    await server.stop();
  }
});
