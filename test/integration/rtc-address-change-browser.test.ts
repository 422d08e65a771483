/**
 * A client whose address changes (NAT rebinding, a phone moving between
 * networks): a browser publishes by WHIP and another page plays by WHEP,
 * each through a small UDP relay announced as the server's candidate with
 * `eip=127.0.0.1:PORT`. Then the player's relay starts sending to the server
 * from a new source port and closes the old one, and later the publisher's.
 * The browsers know nothing of it (as behind a NAT that rebinds).
 *
 * What a user expects, and this test checks: each session follows its
 * client to the new address (the server's UDP gateway, see docs/WEBRTC.md),
 * the player goes on decoding frames, and no session is closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { startServer } from '../helpers/server-process.js';
import { launchChromium, openPage, whipPublish, whepPlay, playStats, publishStats, selectedPair, until, rtcConfig, RTC_PORT } from '../helpers/rtc-browser.js';

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

test('client address change: the player and the publisher sessions follow their clients to new addresses and media goes on', { timeout: 75_000 }, async () => {
  // The configured candidate is unreachable (TEST-NET-2): the relays' eip candidates are the only way in.
  const server = await startServer({ config: rtcConfig(RTC_PORT, 'rtc { enabled on; rtc_to_rtmp off; }').replace('candidate 127.0.0.1;', 'candidate 198.51.100.1;') });
  const rtcPort = server.port('RTC');
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

    // The player moves (NAT rebinding: the browser does not know): its old source port is gone.
    const decodedBefore = (await playStats(playPage)).framesDecoded;
    await playRelay.moveBack();
    const moved = Date.now();
    const follow = await server.waitForLog((l) => l.msg === 'WebRTC client address changed: session follows', 15_000);
    const followedAfter = Date.now() - moved;
    assert.equal(follow.to, `127.0.0.1:${playRelay.backPort}`, 'the session moved to the new source port');
    const after = await until(() => playStats(playPage), (s) => s.framesDecoded > decodedBefore + 60, 15_000);
    assert.ok(after.framesDecoded > decodedBefore + 60, `the same session plays on after the move: ${decodedBefore} → ${after.framesDecoded} frames`);
    assert.ok(playRelay.fromServer > 50, `the server sends to the new address (${playRelay.fromServer} datagrams)`);

    // Then the publisher moves: the player goes on decoding what it sends from its new address.
    const decodedMid = after.framesDecoded;
    const audioMid = after.audioPackets;
    await pubRelay.moveBack();
    await server.waitForLog((l) => l.msg === 'WebRTC client address changed: session follows' && l.to === `127.0.0.1:${pubRelay.backPort}`, 15_000);
    const later = await until(() => playStats(playPage), (s) => s.framesDecoded > decodedMid + 60, 15_000);
    assert.ok(later.framesDecoded > decodedMid + 60, `the player decodes the moved publisher: ${decodedMid} → ${later.framesDecoded} frames`);
    assert.ok(later.audioPackets > audioMid + 50, `audio goes on too: ${audioMid} → ${later.audioPackets} packets`);
    assert.ok(!server.logs.some((l) => /session closed/.test(String(l.msg))), 'no session was closed');
    console.log(`address change: the player's session followed its new address ${followedAfter} ms after the move (nominated: ${String(follow.nominated)})`);
  } finally {
    await browser.close();
    pubRelay.close();
    playRelay.close();
    await server.stop();
  }
});
