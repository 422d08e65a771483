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
vhost __defaultVhost__ { }
`;

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
      const r = await probe(edge.rtmpUrl('live/o'), 2);
      assert.equal(r.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
      assert.equal(r.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
      const flv = await decodeFrames(edge.httpUrl('live/o.flv'), 2);
      assert.ok(flv.frames >= 40, `HTTP-FLV at the edge decoded ${flv.frames} frames`);
      assert.ok(edge.logs.some((l) => l.msg === 'edge pull started'));
      // The origin sees the edge as one player, whatever the number of edge players.
      const plays = origin.logs.filter((l) => l.msg === 'play started').length;
      assert.ok(plays >= 1 && plays <= 2, `origin served ${plays} edge pulls`);
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
        const results = await Promise.all([0, 1, 2, 3].map(() => decodeFrames(edge.rtmpUrl('live/w'), 2)));
        for (const r of results) assert.ok(r.frames >= 40, `edge player decoded ${r.frames} frames`);
        const pids = new Set(edge.logs.filter((l) => l.msg === 'play started').map((l) => l['pid']));
        assert.equal(pids.size, 2, 'players were spread over both worker processes');
      } finally {
        await pub.stop();
      }
    },
    ['--workers', '2'],
  );
});
