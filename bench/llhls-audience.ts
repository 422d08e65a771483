/**
 * An LL-HLS audience: N players, each polling as hls.js does on a live
 * low-latency playlist: a blocking playlist reload for the part after the
 * newest one it has (`_HLS_msn`/`_HLS_part`), then a fetch of the new part,
 * then again. A master playlist (hls_ctx) is followed first, so every
 * player is its own session. Keep-alive connections, one per player.
 * Reports requests/s, parts/s per player, errors, and the server's CPU.
 */
import http from 'node:http';
import { LoadMeter, figures, ramp, sleep } from './run-clock.js';

export interface AudienceOptions {
  url: string;
  players: number;
  /** Players started per second. */
  rate: number;
  /** Seconds, ramp included. */
  duration: number;
  interval: number;
  pids: number[];
  log: (line: string) => void;
}

export interface AudienceResult {
  players: number;
  seconds: number;
  playlistsPerSec: number;
  partsPerSec: number;
  /** Parts per second per live player (the stream makes 1 / part duration). */
  partsPerPlayerPerSec: number;
  /** Players that received a part in the last window. */
  playersFed: number;
  errors: number;
  firstError: string;
  mbPerSec: number;
  serverCpu: number;
  serverRssMb: number;
  selfCpu: number;
}

interface Counters {
  playlists: number;
  parts: number;
  bytes: number;
  errors: number;
}

function get(agent: http.Agent, url: URL): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
  });
}

/** The newest part of a media playlist: its URI, msn and index (from `NAME-msn.part.m4s`). */
function newestPart(text: string): { uri: string; msn: number; part: number } | null {
  let last: string | null = null;
  for (const m of text.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)) last = m[1]!;
  if (!last) return null;
  const m = /-(\d+)\.(\d+)\.m4s/.exec(last);
  return m ? { uri: last, msn: Number(m[1]), part: Number(m[2]) } : null;
}

export async function runAudience(o: AudienceOptions): Promise<AudienceResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const total: Counters = { playlists: 0, parts: 0, bytes: 0, errors: 0 };
  let firstError = '';
  let stopping = false;
  const fedAt = new Array<number>(o.players).fill(0);
  const fail = (e: unknown): void => {
    total.errors++;
    if (!firstError) firstError = e instanceof Error ? e.message : String(e);
  };

  const player = async (i: number): Promise<void> => {
    let media = new URL(o.url);
    while (!stopping) {
      try {
        let r = await get(agent, media);
        let text = r.body.toString();
        const variant = /#EXT-X-STREAM-INF[^\n]*\n([^\n#]+)/.exec(text);
        if (variant) {
          media = new URL(variant[1]!.trim(), media);
          r = await get(agent, media);
          text = r.body.toString();
        }
        total.playlists++;
        let have = newestPart(text);
        if (!have) throw new Error('playlist without parts');
        let got = have;
        let want = { msn: have.msn, part: have.part };
        while (!stopping) {
          if (have) {
            const p = await get(agent, new URL(have.uri, media));
            if (p.status !== 200) throw new Error(`part ${have.uri}: HTTP ${p.status}`);
            total.parts++;
            total.bytes += p.body.length;
            fedAt[i] = performance.now();
            got = have;
            want = { msn: have.msn, part: have.part + 1 };
          }
          const next = new URL(media);
          next.searchParams.set('_HLS_msn', String(want.msn));
          next.searchParams.set('_HLS_part', String(want.part));
          const pl = await get(agent, next);
          if (pl.status !== 200) throw new Error(`blocking playlist: HTTP ${pl.status}`);
          total.playlists++;
          total.bytes += pl.body.length;
          const n = newestPart(pl.body.toString());
          if (!n) throw new Error('playlist without parts');
          // No new part: the segment ended with the one we have; the next is part 0 of the next segment.
          if (n.msn === got.msn && n.part === got.part) {
            have = null;
            want = { msn: got.msn + 1, part: 0 };
          } else have = n;
        }
      } catch (e) {
        if (stopping) return;
        fail(e);
        await sleep(500);
      }
    }
  };

  const meter = new LoadMeter(o.pids);
  const t0 = performance.now();
  const endAt = t0 + o.duration * 1000;
  const running: Promise<void>[] = [];
  const rampDone = ramp(o.players, o.rate, (i) => running.push(player(i)), () => performance.now() >= endAt);
  let last = meter.mark();
  let lastCounts = { ...total };
  let lastResult: AudienceResult | null = null;
  while (performance.now() < endAt) {
    await sleep(Math.min(o.interval * 1000, Math.max(0, endAt - performance.now())));
    const now = meter.mark();
    const secs = (now.at - last.at) / 1000;
    const f = figures(last, now);
    const fed = fedAt.filter((t) => t > now.at - o.interval * 1000).length;
    const parts = (total.parts - lastCounts.parts) / secs;
    lastResult = {
      players: running.length,
      seconds: Math.round((now.at - t0) / 1000),
      playlistsPerSec: (total.playlists - lastCounts.playlists) / secs,
      partsPerSec: parts,
      partsPerPlayerPerSec: running.length ? parts / running.length : 0,
      playersFed: fed,
      errors: total.errors,
      firstError,
      mbPerSec: (total.bytes - lastCounts.bytes) / secs / 1048576,
      serverCpu: f.serverCpu,
      serverRssMb: f.serverRssMb,
      selfCpu: f.selfCpu,
    };
    o.log(describeAudience(lastResult));
    last = now;
    lastCounts = { ...total };
  }
  stopping = true;
  await rampDone;
  meter.stop();
  agent.destroy();
  await Promise.race([Promise.allSettled(running), sleep(2000)]);
  if (!lastResult) throw new Error('the run ended before its first report');
  return lastResult;
}

export function describeAudience(r: AudienceResult): string {
  return (
    `llhls t=${r.seconds}s players=${r.players} fed=${r.playersFed} playlists/s=${r.playlistsPerSec.toFixed(0)} parts/s=${r.partsPerSec.toFixed(0)}` +
    ` (${r.partsPerPlayerPerSec.toFixed(2)}/player) ${r.mbPerSec.toFixed(1)} MB/s errors=${r.errors}${r.firstError ? ` (${r.firstError})` : ''}` +
    ` server cpu=${r.serverCpu.toFixed(1)}% rss=${r.serverRssMb.toFixed(0)}MB self cpu=${r.selfCpu.toFixed(0)}%`
  );
}
