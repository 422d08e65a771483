/**
 * Simulcast from a WHIP publisher: headless Chromium sends its fake camera
 * at 1280x720 as three layers (rid h, m = 1/2, l = 1/4). Each layer must
 * arrive (the publisher's getStats shows all three sent), a WHEP player
 * asking for `?layer=l` decodes the low layer's resolution, one asking for
 * nothing decodes the top layer's, the first one moved to `m` on the fly
 * (POST on its session URL with action=layer) decodes m's, and the frame
 * form (HTTP-FLV, read by ffprobe) carries the top layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { launchChromium, openPage, whipPublish, whepPlay, playStats, layerStats, until, rtcConfig, RTC_PORT } from '../helpers/rtc-browser.js';
import { probe } from '../helpers/ffmpeg.js';

test('browser WHIP with 3 simulcast layers: players pick a layer, HTTP-FLV gets the top one', { timeout: 120_000 }, async (t) => {
  const server = await startServer({ config: rtcConfig(RTC_PORT) });
  const browser = await launchChromium();
  try {
    const api = server.apiUrl('').replace(/\/$/, '');
    const pubPage = await openPage(browser, api);
    await whipPublish(pubPage, `${api}/rtc/v1/whip/?app=live&stream=sim`, { simulcast: true });
    const answered = await server.waitForLog((l) => l.msg === 'WebRTC publish answered', 10_000);
    assert.deepEqual(answered.layers, ['h', 'm', 'l'], 'the server took the three layers');
    // The browser sends a layer only once the answer accepted it and its bandwidth estimate allows it.
    const sent = await until(() => layerStats(pubPage), (ls) => ls.length === 3 && ls.every((l) => l.packetsSent > 50 && l.frameWidth > 0), 40_000, 500);
    assert.deepEqual(sent.map((l) => l.rid), ['h', 'l', 'm'], JSON.stringify(sent));
    assert.ok(sent.every((l) => l.packetsSent > 50), `every layer is sent: ${JSON.stringify(sent)}`);
    const width = (rid: string): number => sent.find((l) => l.rid === rid)!.frameWidth;
    assert.ok(width('h') > width('m') && width('m') > width('l'), `three sizes: ${JSON.stringify(sent)}`);

    const lowPage = await openPage(browser, api);
    const lowLocation = await whepPlay(lowPage, `${api}/rtc/v1/whep/?app=live&stream=sim&layer=l`);
    const topPage = await openPage(browser, api);
    await whepPlay(topPage, `${api}/rtc/v1/whep/?app=live&stream=sim`);
    const low = await until(() => playStats(lowPage), (s) => s.framesDecoded > 30, 30_000);
    assert.ok(low.framesDecoded > 30, `the low-layer player decodes: ${JSON.stringify(low)}`);
    assert.ok(low.frameWidth > 0 && low.frameWidth <= 320 && low.frameWidth < width('m'), `the low-layer player gets ~320x180: ${low.frameWidth}x${low.frameHeight}, layers ${JSON.stringify(sent)}`);
    // The top layer is the one with the most bytes; once the browser sends all three that is h.
    const top = await until(() => playStats(topPage), (s) => s.framesDecoded > 30 && s.frameWidth >= 1280, 40_000);
    assert.ok(top.framesDecoded > 30, `the default player decodes: ${JSON.stringify(top)}`);
    assert.equal(top.frameWidth, 1280, `the default player gets the top layer: ${top.frameWidth}x${top.frameHeight}; sent now ${JSON.stringify(await layerStats(pubPage))}`);
    assert.equal(top.frameHeight, 720);
    const lowLater = await until(() => playStats(lowPage), (s) => s.framesDecoded > low.framesDecoded + 20, 20_000);
    assert.ok(lowLater.frameWidth <= 320, `the low-layer player stays on l: ${lowLater.frameWidth}`);

    // On the fly: the session URL (the Location, whose token guards it) with action=layer.
    const switchUrl = `${api}${lowLocation.replace('action=delete', 'action=layer')}&layer=m`;
    const denied = await fetch(switchUrl.replace(/token=\w+/, 'token=wrongtokn'), { method: 'POST' });
    assert.equal(denied.status, 403, 'a wrong token switches nothing');
    const sw = await fetch(switchUrl, { method: 'POST' });
    assert.equal(sw.status, 200);
    assert.deepEqual(await sw.json(), { code: 0 });
    const moved = await until(() => playStats(lowPage), (s) => s.frameWidth === width('m'), 30_000);
    assert.equal(moved.frameWidth, width('m'), `the player moved to layer m: ${JSON.stringify(moved)}`);
    const after = await until(() => playStats(lowPage), (s) => s.framesDecoded > moved.framesDecoded + 20, 20_000);
    assert.ok(after.framesDecoded > moved.framesDecoded + 20, 'and keeps decoding after the switch');
    assert.ok(after.keyFramesDecoded >= 2, `the switch happened at a keyframe of m (${after.keyFramesDecoded} keyframes decoded)`);

    // The frame form follows the top layer: wait for its sequence header, then read HTTP-FLV.
    await server.waitForLog((l) => l.msg === 'rtc_to_rtmp: H.264 sequence header' && l.layer === 0, 40_000);
    const flv = await probe(server.httpUrl('live/sim.flv'), 2);
    const v = flv.streams.find((s) => s.codec_type === 'video');
    assert.equal(v?.codec_name, 'h264', JSON.stringify(flv.streams));
    assert.equal(v?.width, 1280, `HTTP-FLV carries the top layer: ${JSON.stringify(v)}`);
    assert.equal(v?.height, 720);
    // What the players were spared of the publisher's bandwidth probes (padding-only packets), if it sent any.
    assert.equal((await fetch(`${api}${lowLocation}`, { method: 'DELETE' })).status, 200, 'WHEP DELETE ends the session');
    const closed = await server.waitForLog((l) => l.msg === 'rtc-play session closed', 20_000);
    t.diagnostic(`low/m player closed: padding_dropped ${String(closed.padding_dropped)}, retransmits ${String(closed.retransmits)}`);
  } finally {
    await browser.close();
    await server.stop();
  }
});
