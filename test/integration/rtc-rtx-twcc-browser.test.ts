/**
 * Loss repair and congestion feedback with headless Chromium behind a UDP
 * relay that loses RTP or caps the rate:
 * - a WHEP player NACKs what the relay lost and gets it back as RTX
 *   (RFC 4588, its own SSRC) and keeps decoding; with `rtc.nack off` no
 *   NACK or RTX is negotiated and nothing is resent;
 * - a WHIP publisher answers the server's NACKs with RTX, which the server
 *   unwraps into the RTC→RTMP bridge: HTTP-FLV of the stream decodes;
 * - a WHIP publisher gets transport-cc feedback and its bandwidth estimate
 *   (`availableOutgoingBitrate`) follows a bottleneck put in the relay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startServer, type LogLine, type RunningServer } from '../helpers/server-process.js';
import { publish, decodeFrames, type Proc } from '../helpers/ffmpeg.js';
import { launchChromium, openPage, rtcConfig, until, RTC_PORT } from '../helpers/rtc-browser.js';
import { lossyRelay, rtpStats, whepPlayVia, whipPublishVia, type LossyRelay, type RelayOptions } from '../helpers/rtc-lossy-relay.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

async function closePeer(page: Page, which: 'playPc' | 'pubPc'): Promise<void> {
  await page.evaluate((w) => (window as unknown as Record<string, RTCPeerConnection>)[w]!.close(), which);
}

/** A server bridging WebRTC to RTMP, and Chromium publishing `stream` over WHIP through a relay made with `o`; all closed after `fn`. */
async function withWhipThroughRelay(stream: string, o: RelayOptions, fn: (x: { server: RunningServer; page: Page; relay: LossyRelay }) => Promise<void>): Promise<void> {
  const server = await startServer({ config: rtcConfig(RTC_PORT, 'rtc { enabled on; rtc_to_rtmp on; pli_for_rtmp 1; }') });
  const browser = await launchChromium();
  let relay: LossyRelay | null = null;
  try {
    const rtcPort = server.port('RTC');
    relay = await lossyRelay(rtcPort, o);
    const api = server.apiUrl('').replace(/\/$/, '');
    const page = await openPage(browser, api);
    await whipPublishVia(page, `${api}/rtc/v1/whip/?app=live&stream=${stream}`, { serverPort: rtcPort, relayPort: relay.port });
    await fn({ server, page, relay });
  } finally {
    relay?.close();
    await browser.close();
    await server.stop();
  }
}

/**
 * A server bridging an RTMP publish of `stream` to WebRTC (vhost `rtc { ... }` body `vhostRtc`), and Chromium
 * playing it over WHEP through a relay that loses 4 % of what goes down; all closed after `fn`.
 */
async function withWhepThroughLossyRelay(stream: string, vhostRtc: string, gop: number, fn: (x: { server: RunningServer; page: Page; relay: LossyRelay }) => Promise<void>): Promise<void> {
  const server = await startServer({ config: rtcConfig(RTC_PORT, `rtc { ${vhostRtc} }`) });
  const browser = await launchChromium();
  let ff: Proc | null = null;
  let relay: LossyRelay | null = null;
  try {
    ff = publish(server.rtmpUrl(`live/${stream}`), { seconds: 90, size: '640x360', gop });
    await server.waitForLog((l) => l.msg === 'publish started', 15_000);
    const rtcPort = server.port('RTC');
    relay = await lossyRelay(rtcPort, { lossDown: 0.04, seed: 11 });
    const api = server.apiUrl('').replace(/\/$/, '');
    const page = await openPage(browser, api);
    await whepPlayVia(page, `${api}/rtc/v1/whep/?app=live&stream=${stream}`, { serverPort: rtcPort, relayPort: relay.port });
    await fn({ server, page, relay });
  } finally {
    relay?.close();
    await browser.close();
    await ff?.stop();
    await server.stop();
  }
}

const readVideoIn = async (page: Page): Promise<Record<string, number | string>> => (await rtpStats(page, 'playPc', 'inbound-rtp', 'video')).rtp;

test('WHEP player behind a lossy link: lost packets come back as RTX and decoding goes on', { timeout: 120_000 }, async (t) => {
  await withWhepThroughLossyRelay('rtxplay', 'enabled on; rtmp_to_rtc on;', 50, async ({ server, page, relay }) => {
    const read = (): Promise<Record<string, number | string>> => readVideoIn(page);
    let s = await until(read, (r) => num(r.framesDecoded) > 30 && num(r.retransmittedPacketsReceived) > 5, 60_000);
    assert.ok(relay.lostDown > 0, 'the relay lost RTP');
    assert.ok(num(s.nackCount) > 0, `the browser NACKed (nackCount ${s.nackCount})`);
    assert.ok(num(s.retransmittedPacketsReceived) > 5, `retransmitted packets received: ${s.retransmittedPacketsReceived} (lost by the relay ${relay.lostDown})`);
    const before = num(s.framesDecoded);
    s = await until(read, (r) => num(r.framesDecoded) >= before + 50, 30_000);
    assert.ok(num(s.framesDecoded) >= before + 50, `frames decoded ${before} → ${s.framesDecoded}`);
    await closePeer(page, 'playPc');
    const closed: LogLine = await server.waitForLog((l) => l.msg === 'rtc-play session closed', 20_000);
    t.diagnostic(`relay lost ${relay.lostDown}; browser nackCount ${s.nackCount}, retransmittedPacketsReceived ${s.retransmittedPacketsReceived}, packetsLost ${s.packetsLost}; server retransmits ${closed.retransmits}, rtx ${closed.rtx}`);
    assert.ok(num(closed.rtx) > 0, `the server sent RTX: ${JSON.stringify(closed)}`);
  });
});

test('rtc.nack off: the answer offers no NACK nor RTX, the player\'s losses are not resent, decoding goes on', { timeout: 120_000 }, async (t) => {
  await withWhepThroughLossyRelay('nonack', 'enabled on; rtmp_to_rtc on; nack off;', 25, async ({ server, page, relay }) => {
    const answer = await page.evaluate(() => (window as unknown as { playAnswer: string }).playAnswer);
    assert.doesNotMatch(answer, /a=rtcp-fb:\d+ nack\r\n/, 'no generic NACK feedback');
    assert.match(answer, /a=rtcp-fb:\d+ nack pli\r\n/, 'PLI stays');
    assert.doesNotMatch(answer, /rtx\/90000/, 'no RTX');
    const s = await until(() => readVideoIn(page), (r) => num(r.framesDecoded) > 30 && relay.lostDown > 20, 60_000);
    assert.ok(num(s.framesDecoded) > 30, `frames decoded: ${s.framesDecoded}`);
    assert.ok(relay.lostDown > 20, `the relay lost RTP: ${relay.lostDown}`);
    assert.equal(num(s.retransmittedPacketsReceived), 0, 'nothing was resent');
    await closePeer(page, 'playPc');
    const closed: LogLine = await server.waitForLog((l) => l.msg === 'rtc-play session closed', 20_000);
    t.diagnostic(`relay lost ${relay.lostDown}; browser nackCount ${s.nackCount}, framesDecoded ${s.framesDecoded}; server retransmits ${closed.retransmits}`);
    assert.equal(num(closed.retransmits), 0, `the server resent nothing: ${JSON.stringify(closed)}`);
  });
});

test('WHIP publisher behind a lossy link: its RTX repairs the RTC→RTMP stream, HTTP-FLV decodes', { timeout: 120_000 }, async (t) => {
  await withWhipThroughRelay('rtxpub', { lossUp: 0.04, seed: 5 }, async ({ server, page, relay }) => {
    await server.waitForLog((l) => l.msg === 'rtc_to_rtmp: H.264 sequence header', 20_000);
    const got = await decodeFrames(server.httpUrl('live/rtxpub.flv'), 4);
    assert.ok(got.frames >= 40, `HTTP-FLV frames decoded: ${got.frames} (${got.stderr.slice(-400)})`);
    const s = await until(async () => (await rtpStats(page, 'pubPc', 'outbound-rtp', 'video')).rtp, (r) => num(r.retransmittedPacketsSent) > 5, 30_000);
    assert.ok(relay.lostUp > 0, 'the relay lost RTP');
    assert.ok(num(s.nackCount) > 0 && num(s.retransmittedPacketsSent) > 5, `the browser was NACKed (${s.nackCount}) and resent ${s.retransmittedPacketsSent} packets`);
    await closePeer(page, 'pubPc');
    const closed: LogLine = await server.waitForLog((l) => l.msg === 'rtc-publish session closed', 20_000);
    t.diagnostic(`relay lost ${relay.lostUp}; browser nackCount ${s.nackCount}, retransmittedPacketsSent ${s.retransmittedPacketsSent}; server packets ${closed.packets}, rtx ${closed.rtx}, rtx_repaired ${closed.rtx_repaired}`);
    assert.ok(num(closed.rtx_repaired) > 0, `the server unwrapped RTX: ${JSON.stringify(closed)}`);
  });
});

test('WHIP publisher gets transport-cc feedback: its bandwidth estimate follows a bottleneck', { timeout: 150_000 }, async (t) => {
  await withWhipThroughRelay('twcc', {}, async ({ server, page, relay }) => {
    const pair = async (): Promise<number> => num((await rtpStats(page, 'pubPc', 'outbound-rtp', 'video')).pair.availableOutgoingBitrate);
    // On a quiet machine the estimate passes 1 Mbit/s within seconds; on a loaded one (arrivals are
    // stamped when the event loop runs, so its delay reads as queueing) it may stay lower: cap below it.
    const open = await until(pair, (b) => b > 600_000, 30_000, 500);
    t.diagnostic(`estimate on the open link: ${open} bit/s`);
    assert.ok(open > 0, 'availableOutgoingBitrate is reported');
    const capKbps = Math.max(60, Math.min(300, Math.floor(open / 3000)));
    relay.capUp(capKbps, 1000);
    const capped = await until(pair, (b) => b > 0 && b < capKbps * 1500, 60_000, 500);
    t.diagnostic(`estimate behind a ${capKbps} kbit/s bottleneck: ${capped} bit/s (relay dropped ${relay.lostUp})`);
    assert.ok(capped > 0 && capped < capKbps * 1500, `availableOutgoingBitrate ${capped} behind ${capKbps} kbit/s (open link: ${open})`);
    await server.waitForLog((l) => l.msg === 'rtc_to_rtmp: H.264 sequence header', 20_000);
    const got = await decodeFrames(server.httpUrl('live/twcc.flv'), 4);
    assert.ok(got.frames >= 10, `HTTP-FLV frames decoded behind the bottleneck: ${got.frames}`);
    await closePeer(page, 'pubPc');
    const closed: LogLine = await server.waitForLog((l) => l.msg === 'rtc-publish session closed', 20_000);
    t.diagnostic(`server: packets ${closed.packets}, twcc_feedbacks ${closed.twcc_feedbacks}, rtx ${closed.rtx} (probes ${num(closed.rtx) - num(closed.rtx_repaired)})`);
    assert.ok(num(closed.twcc_feedbacks) > 50, `the server sent transport-cc feedback: ${JSON.stringify(closed)}`);
  });
});
