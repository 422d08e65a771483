/**
 * A browser publishes by WHIP and another page plays by WHEP through the
 * SFU: video frames decode and audio energy grows in the player's getStats;
 * DELETE on the Location ends the sessions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { freePort } from '../helpers/ports.js';
import { launchChromium, openPage, whipPublish, whepPlay, playStats, publishStats, until, rtcConfig } from '../helpers/rtc-browser.js';

test('browser WHIP → browser WHEP: frames decode and audio arrives', { timeout: 60_000 }, async () => {
  const rtcPort = await freePort();
  const server = await startServer({ config: rtcConfig(rtcPort) });
  const browser = await launchChromium();
  try {
    const api = server.apiUrl('').replace(/\/$/, '');
    const pubPage = await openPage(browser, api);
    const location = await whipPublish(pubPage, `${api}/rtc/v1/whip/?app=live&stream=sfu`);
    assert.match(location, /^\/rtc\/v1\/whip\/\?action=delete&token=\w{9}&app=live&stream=sfu&session=[^&]+(:|%3A)[^&]+$/);
    await server.waitForLog((l) => l.msg === 'rtc-publish connected', 10_000);

    const playPage = await openPage(browser, api);
    const playLocation = await whepPlay(playPage, `${api}/rtc/v1/whep/?app=live&stream=sfu`);
    const first = await until(() => playStats(playPage), (s) => s.framesDecoded > 30 && s.totalAudioEnergy > 0 && s.peak > 0.05, 20_000);
    assert.ok(first.framesDecoded > 30, `frames decoded: ${JSON.stringify(first)}`);
    assert.match(first.videoCodec, /H264/i);
    assert.match(first.audioCodec, /opus/i);
    assert.ok(first.audioPackets > 50, `audio packets: ${first.audioPackets}`);
    assert.ok(first.peak > 0.05, `the received audio is not silent (peak ${first.peak})`);
    const later = await until(() => playStats(playPage), (s) => s.framesDecoded > first.framesDecoded + 20 && s.totalAudioEnergy > first.totalAudioEnergy, 10_000);
    assert.ok(later.framesDecoded > first.framesDecoded + 20, 'frames keep decoding');
    assert.ok(later.totalAudioEnergy > first.totalAudioEnergy, 'audio energy keeps growing');
    const pub = await publishStats(pubPage);
    assert.ok(pub.pliCount >= 1, `the player's join reached the publisher as a PLI (${pub.pliCount})`);

    // Both show in the client list as rtc sessions; DELETE ends them.
    const clients = (await (await fetch(server.apiUrl('/api/v1/clients/'))).json()) as { clients?: { type: string }[] };
    if (clients.clients) {
      const types = clients.clients.map((c) => c.type);
      assert.ok(types.includes('rtc-publish') && types.includes('rtc-play'), `client types ${types.join(',')}`);
    }
    const del = await fetch(`${api}${playLocation}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    await server.waitForLog((l) => l.msg === 'rtc-play session closed', 5000);
    const bad = await fetch(`${api}${location.replace(/token=\w+/, 'token=wrongtokn')}`, { method: 'DELETE' });
    assert.notEqual(bad.status, 200);
    const ok = await fetch(`${api}${location}`, { method: 'DELETE' });
    assert.equal(ok.status, 200);
    await server.waitForLog((l) => l.msg === 'rtc-publish session closed', 5000);
  } finally {
    await browser.close();
    await server.stop();
  }
});
