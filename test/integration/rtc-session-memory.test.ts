/**
 * Ended WebRTC sessions are freed: the embeddable server with a WHIP
 * publisher and waves of WHEP players (node-datachannel peers) that play and
 * leave, half by DELETE and half by closing; afterwards every session object
 * has been garbage-collected. (node-datachannel keeps a track's callbacks,
 * and so its session, alive until the track itself is closed.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RtcSession } from '../../src/servers/webrtc/rtc-session.js';
import { startInProcess } from '../helpers/inprocess-server.js';
import { sleep } from '../helpers/ffmpeg.js';
import { ndcWhep, ndcWhip, type NdcPlayer } from '../helpers/rtc-ndc-client.js';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('ended WebRTC sessions are garbage-collected (no growth with session churn)', { timeout: 120_000 }, async () => {
  const { server, port } = await startInProcess(`listen {{RTMP}};
http_api { enabled on; listen {{API}}; }
rtc_server { enabled on; listen {{RTC}}; candidate 127.0.0.1; }
vhost __defaultVhost__ { rtc { enabled on; rtc_to_rtmp off; rtmp_to_rtc off; } }`);
  const base = `http://127.0.0.1:${port('API')}`;
  const alive = new Set<WeakRef<RtcSession>>();
  const seen = new WeakSet<RtcSession>();
  // Every session the server makes is watched through the client registry's add().
  const clients = server.ctx.clients;
  const add = clients.add.bind(clients);
  clients.add = (s): void => {
    if (s instanceof RtcSession && !seen.has(s)) {
      seen.add(s);
      alive.add(new WeakRef(s));
    }
    add(s);
  };
  const pub = await ndcWhip(`${base}/rtc/v1/whip/?app=live&stream=mem`);
  try {
    let played = 0;
    for (let wave = 0; wave < 6; wave++) {
      const players: NdcPlayer[] = [];
      for (let i = 0; i < 10; i++) players.push(await ndcWhep(`${base}/rtc/v1/whep/?app=live&stream=mem`));
      const end = Date.now() + 8000;
      while (Date.now() < end && players.some((p) => p.video.packets === 0)) await sleep(100);
      played += players.filter((p) => p.video.packets > 0).length;
      for (const [i, p] of players.entries()) {
        if (i % 2 && p.location) await fetch(new URL(p.location, base), { method: 'DELETE' });
        p.close();
      }
    }
    assert.ok(played >= 55, `players received video: ${played}/60`);
    // Players that only closed are found out by the server (consent / disconnected timeouts).
    const live = (): number => [...alive].filter((r) => r.deref()?.closed === false).length;
    const until = Date.now() + 60_000;
    while (live() > 1 && Date.now() < until) await sleep(500);
    assert.equal(live(), 1, 'only the publisher is still open');
    for (let i = 0; i < 6; i++) {
      gc();
      await sleep(300);
    }
    const kept = [...alive].filter((r) => r.deref()?.closed === true).length;
    assert.ok(kept <= 2, `${kept} of ${alive.size - 1} ended sessions are still in memory`);
  } finally {
    pub.close();
    await server.stop();
  }
});
