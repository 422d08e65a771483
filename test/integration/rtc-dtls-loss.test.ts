/**
 * DTLS handshakes survive loss (SRS's DTLS_ClientPassive_ARQ_* tests): a UDP
 * relay (test/helpers/rtc-lossy-relay.ts) stands between a node-datachannel
 * WHEP player and the server and drops the server's first handshake flights. The player offers
 * `a=setup:passive`, so the server is the DTLS client and its ClientHellos
 * are what gets lost. libdatachannel (OpenSSL) alone resends a lost flight
 * after 1 s, then 2 s, 4 s: three lost ClientHellos cost it 7 s. The player
 * must be connected and receiving video within the 5 s SRS's tests allow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { freePort } from '../helpers/ports.js';
import { publish, type Proc } from '../helpers/ffmpeg.js';
import { rtcConfig, until } from '../helpers/rtc-browser.js';
import { ndcWhep, type NdcPlayer } from '../helpers/rtc-ndc-client.js';
import { firstHandshakes, lossyRelay, seeded, type LossyRelay } from '../helpers/rtc-lossy-relay.js';

/** SRS's tests give the handshake this long (ms). */
const BOUND_MS = 5000;

async function playThrough(server: RunningServer, rtcPort: number, stream: string, drop: (types: number[]) => boolean): Promise<{ relay: LossyRelay; player: NdcPlayer; connectedMs: number; firstVideoMs: number; setup: string }> {
  const r = await lossyRelay(rtcPort, { dropDtlsDown: drop });
  let setup = '';
  const player = await ndcWhep(server.apiUrl(`rtc/v1/whep/?app=live&stream=${stream}`), {}, {
    // The player is DTLS server, the Sluice DTLS client (SRS's "ClientPassive").
    offer: (sdp) => sdp.replace(/a=setup:actpass/g, 'a=setup:passive'),
    answer: (sdp) => {
      setup = /a=setup:(\w+)/.exec(sdp)?.[1] ?? '';
      // The player reaches the server only through the relay.
      return sdp.replace(new RegExp(`(a=candidate:\\S+ \\d+ (?:udp|UDP) \\d+ \\S+) ${rtcPort} `, 'g'), `$1 ${r.port} `);
    },
  });
  const t0 = Date.now();
  let connectedMs = -1;
  player.pc.onStateChange((s) => {
    if (s === 'connected' && connectedMs < 0) connectedMs = Date.now() - t0;
  });
  if (player.pc.state() === 'connected') connectedMs = 0;
  await until(async () => player.video.packets, (n) => n > 0, BOUND_MS + 10_000, 20).catch(() => undefined);
  const firstVideoMs = player.video.packets > 0 ? Date.now() - t0 : -1;
  return { relay: r, player, connectedMs, firstVideoMs, setup };
}

test('the server as DTLS client finishes the handshake within 5 s when its first flights are lost', { timeout: 120_000 }, async (t) => {
  const rtcPort = await freePort();
  const server = await startServer({ config: rtcConfig(rtcPort, 'rtc { enabled on; rtmp_to_rtc on; }') });
  let ff: Proc | null = null;
  const opened: { relay: LossyRelay; player: NdcPlayer }[] = [];
  try {
    ff = publish(server.rtmpUrl('live/dtlsloss'), { seconds: 90, gop: 25 });
    await server.waitForLog((l) => l.msg === 'publish started', 15_000);
    const cases: [string, (types: number[]) => boolean][] = [
      ['the first 3 ClientHellos lost', firstHandshakes(1, 3)],
      ['the first 3 flights with the Certificate lost (after the ClientHello got through)', firstHandshakes(11, 3)],
      ['half the server\'s DTLS datagrams lost (seeded)', ((rnd) => () => rnd() < 0.5)(seeded(3))],
    ];
    for (const [name, drop] of cases) {
      await t.test(name, async (st) => {
        const got = await playThrough(server, rtcPort, 'dtlsloss', drop);
        opened.push(got);
        st.diagnostic(`connected ${got.connectedMs} ms, first video ${got.firstVideoMs} ms; server DTLS datagrams dropped ${got.relay.dtlsDroppedDown}, passed ${got.relay.dtlsPassedDown}`);
        assert.equal(got.setup, 'active', 'the server answers a passive offer as DTLS client');
        assert.ok(got.relay.dtlsDroppedDown >= 1, 'the relay lost handshake datagrams');
        assert.ok(got.connectedMs >= 0 && got.connectedMs <= BOUND_MS, `connected after ${got.connectedMs} ms (dropped ${got.relay.dtlsDroppedDown}, passed ${got.relay.dtlsPassedDown})`);
        assert.ok(got.firstVideoMs >= 0 && got.firstVideoMs <= BOUND_MS, `first video after ${got.firstVideoMs} ms`);
        await until(async () => got.player, (p) => p.video.packets > 50 && p.audio.packets > 20, 10_000);
        assert.ok(got.player.video.packets > 50 && got.player.audio.packets > 20, `video ${got.player.video.packets}, audio ${got.player.audio.packets} packets`);
        got.player.close();
        got.relay.close();
      });
    }
  } finally {
    for (const o of opened) {
      o.player.close();
      o.relay.close();
    }
    await ff?.stop();
    await server.stop();
  }
});
