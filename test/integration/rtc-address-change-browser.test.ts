/**
 * A client whose address changes (NAT rebinding, a phone moving between
 * networks): a browser publishes by WHIP and another page plays by WHEP,
 * each through a small UDP relay announced as the server's candidate with
 * `eip=127.0.0.1:PORT`. Then the player's relay starts sending to the server
 * from a new source port and closes the old one.
 *
 * libjuice (libdatachannel's ICE) answers the browser's checks from the new
 * address and even marks the new pair nominated, but keeps sending on the
 * first nominated pair of equal priority (the dead one) and drops media from
 * the new one; the session fails when consent on the old pair expires (30 s).
 * See docs/WEBRTC.md. What Sluice guarantees, and this test checks: the
 * stuck session is closed (on_stop fires, nothing leaks) and a new WHEP
 * request from the new address plays at once, while the publisher is
 * untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { startServer } from '../helpers/server-process.js';
import { freePort } from '../helpers/ports.js';
import { launchChromium, openPage, whipPublish, whepPlay, playStats, publishStats, selectedPair, until, rtcConfig } from '../helpers/rtc-browser.js';

/** Browser ⇄ relay (fixed port) ⇄ server; the server side can move to a new source port. */
class UdpRelay {
  private readonly front = dgram.createSocket('udp4');
  private back: dgram.Socket | null = null;
  private client: { address: string; port: number } | null = null;
  /** Datagrams from the server through the current back socket. */
  fromServer = 0;
  backPort = 0;

  constructor(private readonly serverPort: number) {}

  async start(): Promise<number> {
    this.front.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.back?.send(msg, this.serverPort, '127.0.0.1');
    });
    await new Promise<void>((resolve) => this.front.bind(0, '127.0.0.1', resolve));
    await this.moveBack();
    return (this.front.address() as AddressInfo).port;
  }

  /** A new source port towards the server; the old one is closed (its packets are lost). */
  async moveBack(): Promise<void> {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg) => {
      if (sock !== this.back || !this.client) return;
      this.fromServer++;
      this.front.send(msg, this.client.port, this.client.address);
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    const old = this.back;
    this.back = sock;
    this.fromServer = 0;
    this.backPort = (sock.address() as AddressInfo).port;
    old?.close();
  }

  close(): void {
    this.back?.close();
    this.back = null;
    this.front.close();
  }
}

test('client address change: the stale session is closed at consent expiry and a new WHEP from the new address plays', { timeout: 75_000 }, async () => {
  const rtcPort = await freePort();
  // The configured candidate is unreachable (TEST-NET-2): the relays' eip candidates are the only way in.
  const server = await startServer({ config: rtcConfig(rtcPort, 'rtc { enabled on; rtc_to_rtmp off; }').replace('candidate 127.0.0.1;', 'candidate 198.51.100.1;') });
  const pubRelay = new UdpRelay(rtcPort);
  const playRelay = new UdpRelay(rtcPort);
  const browser = await launchChromium();
  try {
    const api = server.apiUrl('').replace(/\/$/, '');
    const pubPort = await pubRelay.start();
    const playPort = await playRelay.start();

    const pubPage = await openPage(browser, api);
    await whipPublish(pubPage, `${api}/rtc/v1/whip/?app=live&stream=moving&eip=127.0.0.1:${pubPort}`, { stripOfferCandidates: true });
    await server.waitForLog((l) => l.msg === 'rtc-publish connected', 15_000);
    const playPage = await openPage(browser, api);
    const playUrl = `${api}/rtc/v1/whep/?app=live&stream=moving&eip=127.0.0.1:${playPort}`;
    await whepPlay(playPage, playUrl, { stripOfferCandidates: true });
    const before = await until(() => playStats(playPage), (s) => s.framesDecoded > 30, 20_000);
    if (before.framesDecoded <= 30) {
      const video = await playPage.evaluate(async () => {
        const o: Record<string, unknown>[] = [];
        (await (window as unknown as { playPc: RTCPeerConnection }).playPc.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') o.push({ packets: s.packetsReceived, lost: s.packetsLost, pli: s.pliCount, nack: s.nackCount, frames: s.framesReceived });
        });
        return o;
      });
      assert.fail(`frames decoded through the relays: ${JSON.stringify(before)} video ${JSON.stringify(video)} publisher ${JSON.stringify(await publishStats(pubPage))}`);
    }
    for (const [page, which, port] of [[pubPage, 'pubPc', pubPort], [playPage, 'playPc', playPort]] as const) {
      const pair = await selectedPair(page, which);
      assert.equal(pair?.remotePort, port, `${which} goes through its relay: ${JSON.stringify(pair)}`);
    }

    // The player moves: its old source port is gone.
    await playRelay.moveBack();
    const moved = Date.now();
    const closed = await server.waitForLog((l) => l.msg === 'rtc-play session closed', 45_000);
    const closedAfter = Date.now() - moved;
    assert.ok(closedAfter < 45_000, `the stale player session is closed (${closedAfter} ms, ${String(closed.reason)})`);
    assert.ok(!server.logs.some((l) => l.msg === 'rtc-publish session closed'), 'the publisher is untouched');

    // The client's recovery: a new WHEP request from its new address plays.
    await playPage.evaluate(() => (window as unknown as { playPc: RTCPeerConnection }).playPc.close());
    await whepPlay(playPage, playUrl, { stripOfferCandidates: true });
    const again = await until(() => playStats(playPage), (s) => s.framesDecoded > 30, 15_000);
    assert.ok(again.framesDecoded > 30, `a new session from the new address plays: ${JSON.stringify(again)}`);
    assert.ok(playRelay.fromServer > 50, `the server sends to the new address (${playRelay.fromServer} datagrams)`);
    console.log(`address change: stale session closed ${closedAfter} ms after the move (${String(closed.reason)})`);
  } finally {
    await browser.close();
    pubRelay.close();
    playRelay.close();
    await server.stop();
  }
});
