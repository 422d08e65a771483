/**
 * WebRTC on every core: an edge started with `--workers 2` answers every
 * WHEP offer (both processes' native relays bind the one public UDP port
 * with SO_REUSEPORT and pass each other the datagrams of their sessions,
 * which each worker's /api/v1/summaries counts), every player gets video and audio from that
 * port, and both worker processes hold sessions. A headless
 * Chromium plays through the same edge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, decodeFrames } from '../helpers/ffmpeg.js';
import { launchChromium, openPage, whepPlay, playStats, selectedPair, until, rtcEdgeConfig } from '../helpers/rtc-browser.js';
import { ndcWhep, type NdcPlayer } from '../helpers/rtc-ndc-client.js';

/** /api/v1/summaries on a new connection (the primary deals connections to the workers in turn). */
function summaries(url: string): Promise<{ pid: string; sluice: Record<string, number | string | null> }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          try {
            const j = JSON.parse(body) as { pid: string; data: { sluice: Record<string, number | string | null> } };
            resolve({ pid: j.pid, sluice: j.data.sluice });
          } catch (err) {
            reject(err as Error);
          }
        });
      })
      .on('error', reject);
  });
}

const ORIGIN = `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
vhost __defaultVhost__ { play { gop_cache on; } }
`;

async function withEdge(fn: (edge: RunningServer) => Promise<void>, rtcExtra = ''): Promise<void> {
  const origin = await startServer({ config: ORIGIN });
  let edge: RunningServer | null = null;
  let warm: Promise<unknown> = Promise.resolve();
  const pub = publish(origin.rtmpUrl('live/w'), { seconds: 60, gop: 25 });
  try {
    await origin.waitForLog((l) => l.msg === 'publish started', 15_000);
    edge = await startServer({ config: rtcEdgeConfig(origin.rtmpPort, rtcExtra, 'max_connections 1000;\nhttp_server { enabled on; listen {{HTTP}}; dir ./html; }'), args: ['--workers', '2'] });
    // Both workers have the shared port before the first offer.
    await until(async () => edge!.logs.filter((l) => l.msg === 'WebRTC server listening' && l['sharedWithWorkers'] === true).length, (n) => n >= 2, 20_000);
    // RTMP players first, dealt to both workers, so that each worker's edge pull runs before the WHEP
    // offers (a WHEP player as an edge's first player is tested in edge-whep-first-player).
    warm = Promise.all([0, 1, 2, 3].map(() => decodeFrames(edge!.rtmpUrl('live/w'), 50)));
    await until(async () => new Set(edge!.logs.filter((l) => l.msg === 'edge pull started').map((l) => l['pid'])).size, (n) => n >= 2, 30_000);
    await fn(edge);
  } finally {
    await edge?.stop();
    await warm.catch(() => undefined);
    await pub.stop();
    await origin.stop();
  }
}

test('--workers 2: every WHEP offer is answered, every player gets media, both workers serve', { timeout: 120_000 }, async (t) => {
  await withEdge(async (edge) => {
    const rtcPort = edge.port('RTC');
    const players: NdcPlayer[] = [];
    try {
      // In parallel: the offers come over several HTTP connections, which the primary deals to both workers.
      const started = await Promise.allSettled(Array.from({ length: 12 }, () => ndcWhep(edge.apiUrl('rtc/v1/whep/?app=live&stream=w'))));
      for (const r of started) if (r.status === 'fulfilled') players.push(r.value);
      const failed = started.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      assert.deepEqual(failed, [], 'every WHEP offer is answered 201');
      await until(async () => players, (ps) => ps.every((p) => p.video.packets > 100 && p.audio.packets > 20), 40_000);
      for (const p of players) {
        assert.ok(p.video.packets > 100, `video packets ${p.video.packets}`);
        assert.equal(p.pc.getSelectedCandidatePair()?.remote.port, rtcPort, 'every session uses the one public port');
      }
      const pids = new Set(edge.logs.filter((l) => l.msg === 'WebRTC play answered').map((l) => l['pid']));
      assert.equal(pids.size, 2, `sessions were answered by ${pids.size} worker process(es)`);
      assert.ok(!pids.has(edge.proc.pid), 'the primary serves no session');
      // The kernel keeps each client on one worker's socket (SO_REUSEPORT), not always its session's owner; each
      // worker's API counts what its gateway passed to the other, and what its native relay sent straight out.
      const relayed = new Map<string, { out: number; in: number }>();
      const direct = new Map<string, number>();
      const relays = new Set<unknown>();
      const total = (k: 'out' | 'in'): number => [...relayed.values()].reduce((n, r) => n + r[k], 0);
      await until(
        async () => {
          const s = await summaries(edge.apiUrl('api/v1/summaries'));
          relayed.set(s.pid, { out: Number(s.sluice.rtc_relayed_out), in: Number(s.sluice.rtc_relayed_in) });
          relays.add(s.sluice.rtc_udp_relay);
          direct.set(s.pid, Number(s.sluice.rtc_native_direct));
          return relayed;
        },
        (m) => m.size === 2 && total('out') > 0 && total('in') > 0 && [...direct.values()].every((n) => n > 100),
        20_000,
      ).catch(() => undefined);
      t.diagnostic(`rtc_relayed by worker: ${JSON.stringify(Object.fromEntries(relayed))}; rtc_native_direct: ${JSON.stringify(Object.fromEntries(direct))}`);
      assert.equal(relayed.size, 2, 'both workers answered /api/v1/summaries');
      // npm install builds the native relay on Linux: each worker's relay holds the port and sends its players' media itself.
      assert.deepEqual([...relays], ['native'], 'each worker holds the port with the native relay');
      for (const [pid, n] of direct) assert.ok(n > 100, `worker ${pid} sent its players' media straight out: ${n}`);
      assert.ok(total('out') > 0 && total('in') > 0, `datagrams passed between the workers: ${JSON.stringify(Object.fromEntries(relayed))}`);
    } finally {
      for (const p of players) p.close();
    }
  });
});

test('--workers 2: a WHEP player in Chromium plays', { timeout: 120_000 }, async () => {
  await withEdge(async (edge) => {
    const browser = await launchChromium();
    try {
      // Two players in a row: with two workers, at least one is likely answered by each; both must play.
      for (let i = 0; i < 2; i++) {
        const page = await openPage(browser, edge.apiUrl(''));
        await whepPlay(page, edge.apiUrl('rtc/v1/whep/?app=live&stream=w'));
        const s = await until(() => playStats(page), (v) => v.framesDecoded > 40 && v.audioPackets > 50, 30_000);
        assert.ok(s.framesDecoded > 40, `Chromium decoded ${s.framesDecoded} frames`);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});

test('--workers 2: ICE-TCP only, Chromium WHEP players play whichever worker accepts their TCP connection', { timeout: 150_000 }, async () => {
  await withEdge(async (edge) => {
    const tcpPort = edge.port('RTC_TCP');
    const browser = await launchChromium();
    try {
      // The TCP port is dealt to the workers in turn (A, B, A, B), whichever worker answered the offer
      // (Chromium may send every offer over one kept-alive HTTP connection, i.e. to one worker): so
      // some of the four TCP connections land in a worker that does not own their session.
      for (let i = 0; i < 4; i++) {
        const page = await openPage(browser, edge.apiUrl(''));
        await whepPlay(page, edge.apiUrl('rtc/v1/whep/?app=live&stream=w'), { stripOfferCandidates: true });
        const s = await until(() => playStats(page), (v) => v.framesDecoded > 40, 30_000);
        assert.ok(s.framesDecoded > 40, `player ${i}: Chromium decoded ${s.framesDecoded} frames over TCP`);
        const pair = await selectedPair(page, 'playPc');
        assert.equal(pair?.localProtocol, 'tcp', JSON.stringify(pair));
        assert.equal(pair?.remotePort, tcpPort, JSON.stringify(pair));
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 'protocol tcp; tcp { enabled on; listen {{RTC_TCP}}; }');
});
