/**
 * A browser publishes by WHIP and another page plays by WHEP through the
 * SFU: video frames decode and audio energy grows in the player's getStats;
 * DELETE on the Location ends the sessions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { launchChromium, openPage, whipPublish, whepPlay, playStats, publishStats, until, rtcConfig, RTC_PORT } from '../helpers/rtc-browser.js';

test('browser WHIP → browser WHEP: frames decode and audio arrives', { timeout: 60_000 }, async () => {
  const server = await startServer({ config: rtcConfig(RTC_PORT) });
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
    // The media went through the native relay, both ways, the player's straight from libjuice's sendto (npm install builds it on Linux).
    const sums = (await (await fetch(server.apiUrl('/api/v1/summaries'))).json()) as { data: { sluice: Record<string, unknown> } };
    const sl = sums.data.sluice;
    assert.equal(sl.rtc_udp_relay, 'native', `summaries: ${JSON.stringify(sl)}`);
    assert.ok((sl.rtc_native_direct as number) > 100 && (sl.rtc_native_in as number) > 100, `native relay counts: ${JSON.stringify(sl)}`);

    // Both show in the client list as rtc sessions of this stream; DELETE ends the player's.
    const rtcClients = async (): Promise<{ type: string; url: string; publish: boolean }[]> => {
      const res = await fetch(server.apiUrl('/api/v1/clients/'));
      assert.equal(res.status, 200);
      const body = (await res.json()) as { code: number; clients: { type: string; url: string; publish: boolean }[] };
      assert.equal(body.code, 0);
      assert.ok(Array.isArray(body.clients), `clients: ${JSON.stringify(body)}`);
      return body.clients.filter((c) => c.type.startsWith('rtc-'));
    };
    const listed = await rtcClients();
    assert.deepEqual(listed.map((c) => [c.type, c.url, c.publish]).sort(), [
      ['rtc-play', '/live/sfu', false],
      ['rtc-publish', '/live/sfu', true],
    ]);
    const del = await fetch(`${api}${playLocation}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    const afterPlayDelete = await until(rtcClients, (l) => l.length === 1, 5000);
    assert.deepEqual(afterPlayDelete.map((c) => c.type), ['rtc-publish'], 'the player is gone from the client list');
    const bad = await fetch(`${api}${location.replace(/token=\w+/, 'token=wrongtokn')}`, { method: 'DELETE' });
    assert.notEqual(bad.status, 200);
    assert.deepEqual((await rtcClients()).map((c) => c.type), ['rtc-publish'], 'a wrong token ends nothing');
    const ok = await fetch(`${api}${location}`, { method: 'DELETE' });
    assert.equal(ok.status, 200);
    assert.deepEqual(await until(rtcClients, (l) => l.length === 0, 5000), [], 'the publisher is gone from the client list');
  } finally {
    await browser.close();
    await server.stop();
  }
});
