/**
 * Origin/edge: players at an edge pull from the origin, publishers at an edge
 * are relayed to it, and an edge can run as several processes sharing its
 * ports (how Sluice uses every core).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, probe, decodeFrames, sleep } from '../helpers/ffmpeg.js';

const ORIGIN = `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
vhost __defaultVhost__ { }
`;

/**
 * While `work` runs, counts the players of `url` (e.g. '/live/o') that the
 * origin's API lists at once; resolves with the work's result and the most
 * seen together. An edge pulls as one RTMP player of the origin.
 */
async function originPlayersDuring<T>(origin: RunningServer, url: string, work: Promise<T>): Promise<{ result: T; most: number }> {
  let done = false;
  let most = 0;
  const watching = (async () => {
    while (!done) {
      const { clients } = (await (await fetch(origin.apiUrl('/api/v1/clients/?count=100'))).json()) as { clients: { type: string; url: string }[] };
      most = Math.max(most, clients.filter((c) => c.type === 'rtmp-play' && c.url === url).length);
      await sleep(100);
    }
  })();
  try {
    return { result: await work, most };
  } finally {
    done = true;
    await watching;
  }
}

function edgeConfig(originPort: number): string {
  return `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; }
vhost __defaultVhost__ {
  cluster { mode remote; origin 127.0.0.1:${originPort}; }
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
}
`;
}

async function withServers(fn: (origin: RunningServer, edge: RunningServer) => Promise<void>, edgeArgs: string[] = []): Promise<void> {
  const origin = await startServer({ config: ORIGIN });
  let edge: RunningServer | null = null;
  try {
    edge = await startServer({ config: edgeConfig(origin.rtmpPort), args: edgeArgs });
    await fn(origin, edge);
  } finally {
    await edge?.stop();
    await origin.stop();
  }
}

test('players at the edge (RTMP and HTTP-FLV) pull a stream published at the origin', async () => {
  await withServers(async (origin, edge) => {
    const pub = publish(origin.rtmpUrl('live/o'), { seconds: 20 });
    try {
      await origin.waitForLog((l) => l.msg === 'publish started', 15_000);
      await sleep(1500);
      // An RTMP and an HTTP-FLV player at the edge at the same time.
      const { result: [r, flv], most } = await originPlayersDuring(origin, '/live/o', Promise.all([probe(edge.rtmpUrl('live/o'), 3), decodeFrames(edge.httpUrl('live/o.flv'), 3)]));
      assert.equal(r.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
      assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
      assert.ok(flv.frames >= 60, `HTTP-FLV at the edge decoded ${flv.frames} frames`);
      // The origin sees the edge as one player, whatever the number of edge players.
      assert.equal(most, 1, `the origin's API listed ${most} players of /live/o at once`);
    } finally {
      await pub.stop();
    }
  });
});

test('a stream published at the edge is relayed to the origin', async () => {
  await withServers(async (origin, edge) => {
    const pub = publish(edge.rtmpUrl('live/e'), { seconds: 20 });
    try {
      await edge.waitForLog((l) => l.msg === 'edge push started', 15_000);
      await sleep(1500);
      const r = await decodeFrames(origin.rtmpUrl('live/e'), 2);
      assert.ok(r.frames >= 40, `origin decoded ${r.frames} frames of the relayed stream`);
    } finally {
      await pub.stop();
    }
  });
});

test('an edge with --workers 2 serves players from both processes', async () => {
  await withServers(
    async (origin, edge) => {
      const pub = publish(origin.rtmpUrl('live/w'), { seconds: 25 });
      try {
        await origin.waitForLog((l) => l.msg === 'publish started', 15_000);
        await sleep(1500);
        const { result: results, most } = await originPlayersDuring(origin, '/live/w', Promise.all([0, 1, 2, 3].map(() => decodeFrames(edge.rtmpUrl('live/w'), 5))));
        for (const r of results) assert.ok(r.frames >= 100, `edge player decoded ${r.frames} frames`);
        // Each worker process pulls on its own: two pulls at the origin means both served players.
        assert.equal(most, 2, `the origin's API listed ${most} edge pulls of /live/w at once (one per worker)`);
      } finally {
        await pub.stop();
      }
    },
    ['--workers', '2'],
  );
});
