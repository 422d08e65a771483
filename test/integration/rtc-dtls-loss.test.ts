/**
 * DTLS handshakes survive loss (SRS's DTLS_ClientPassive_ARQ_* tests): a UDP
 * relay stands between a node-datachannel WHEP player and the server and
 * drops the server's first handshake flights. The player offers
 * `a=setup:passive`, so the server is the DTLS client and its ClientHellos
 * are what gets lost. libdatachannel (OpenSSL) alone resends a lost flight
 * after 1 s, then 2 s, 4 s: three lost ClientHellos cost it 7 s. The player
 * must be connected and receiving video within the 5 s SRS's tests allow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { freePort } from '../helpers/ports.js';
import { publish, type Proc } from '../helpers/ffmpeg.js';
import { rtcConfig, until } from '../helpers/rtc-browser.js';
import { ndcWhep, type NdcPlayer } from '../helpers/rtc-ndc-client.js';

/** SRS's tests give the handshake this long (ms). */
const BOUND_MS = 5000;

/** The handshake message types in one datagram's epoch-0 DTLS handshake records (RFC 6347 §4.1, §4.2.2). */
function handshakeTypes(d: Buffer): number[] {
  const out: number[] = [];
  for (let o = 0; o + 13 <= d.length; ) {
    const type = d[o]!;
    const epoch = d.readUInt16BE(o + 3);
    const len = d.readUInt16BE(o + 11);
    if (type === 22 && epoch === 0 && len > 0 && o + 13 < d.length) out.push(d[o + 13]!);
    o += 13 + len;
  }
  return out;
}

const isDtls = (d: Buffer): boolean => d.length >= 13 && d[0]! >= 20 && d[0]! <= 63;

interface Relay {
  port: number;
  /** Server→player DTLS datagrams dropped, and passed. */
  dropped: number;
  passed: number;
  close(): void;
}

/** One player's relay: `drop` sees each server→player DTLS datagram (with its handshake types) and says whether to lose it. */
async function relay(serverPort: number, drop: (types: number[]) => boolean): Promise<Relay> {
  const front = dgram.createSocket('udp4');
  const up = dgram.createSocket('udp4');
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => up.bind(0, '127.0.0.1', r));
  up.connect(serverPort, '127.0.0.1');
  await new Promise<void>((r) => up.once('connect', r));
  let client: { port: number; address: string } | null = null;
  const o: Relay = {
    port: (front.address() as AddressInfo).port,
    dropped: 0,
    passed: 0,
    close: () => {
      front.close();
      up.close();
    },
  };
  front.on('message', (m, r) => {
    client = { port: r.port, address: r.address };
    up.send(m);
  });
  up.on('message', (m) => {
    if (!client) return;
    if (isDtls(m)) {
      if (drop(handshakeTypes(m))) {
        o.dropped++;
        return;
      }
      o.passed++;
    }
    front.send(m, client.port, client.address);
  });
  return o;
}

/** Drops the first `n` server datagrams that carry a handshake message of type `type` (1 ClientHello, 11 Certificate). */
function firstOf(type: number, n: number): (types: number[]) => boolean {
  let seen = 0;
  return (types) => types.includes(type) && seen++ < n;
}

/** A seeded PRNG (mulberry32): the same loss pattern every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function playThrough(server: RunningServer, rtcPort: number, stream: string, drop: (types: number[]) => boolean): Promise<{ relay: Relay; player: NdcPlayer; connectedMs: number; firstVideoMs: number; setup: string }> {
  const r = await relay(rtcPort, drop);
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
  const opened: { relay: Relay; player: NdcPlayer }[] = [];
  try {
    ff = publish(server.rtmpUrl('live/dtlsloss'), { seconds: 90, gop: 25 });
    await server.waitForLog((l) => l.msg === 'publish started', 15_000);
    const cases: [string, (types: number[]) => boolean][] = [
      ['the first 3 ClientHellos lost', firstOf(1, 3)],
      ['the first 3 flights with the Certificate lost (after the ClientHello got through)', firstOf(11, 3)],
      ['half the server\'s DTLS datagrams lost (seeded)', ((rnd) => () => rnd() < 0.5)(seeded(3))],
    ];
    for (const [name, drop] of cases) {
      await t.test(name, async (st) => {
        const got = await playThrough(server, rtcPort, 'dtlsloss', drop);
        opened.push(got);
        st.diagnostic(`connected ${got.connectedMs} ms, first video ${got.firstVideoMs} ms; server DTLS datagrams dropped ${got.relay.dropped}, passed ${got.relay.passed}`);
        assert.equal(got.setup, 'active', 'the server answers a passive offer as DTLS client');
        assert.ok(got.relay.dropped >= 1, 'the relay lost handshake datagrams');
        assert.ok(got.connectedMs >= 0 && got.connectedMs <= BOUND_MS, `connected after ${got.connectedMs} ms (dropped ${got.relay.dropped}, passed ${got.relay.passed})`);
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
      try {
        o.relay.close();
      } catch {
        /* closed */
      }
    }
    await ff?.stop();
    await server.stop();
  }
});
