/**
 * The ABR ladder (transcode `abr {}`) with real clients: a 640x360 publish
 * (keyframe every 1 s) is transcoded by two engines to 320x180 and 160x90;
 * ffprobe reads the multivariant playlist `livestream_abr.m3u8` as three
 * programs with those sizes; the playlist carries BANDWIDTH,
 * AVERAGE-BANDWIDTH, RESOLUTION, CODECS (from the SPS) and FRAME-RATE; the
 * three media playlists list the same sequence numbers with the same
 * durations and dates (segments cut on one grid); and hls.js in headless
 * Chromium plays the ladder from its top level and, when the test caps the
 * bandwidth of segment downloads, switches to a lower level and goes on
 * decoding frames there.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, run, type Proc } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { writePlayerPage, launchPlayerBrowser, capSegmentsOnCall } from '../helpers/player-browser.js';

const ENGINE = (name: string, w: number, h: number, kbps: number): string => `
    engine ${name} {
      enabled on;
      vcodec libx264; vbitrate ${kbps}; vwidth ${w}; vheight ${h}; vthreads 1; vprofile baseline; vpreset ultrafast;
      acodec aac; abitrate 32; asample_rate 44100; achannels 2;
      output rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine];
    }`;

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_server { enabled on; listen {{HTTP}}; dir ./html; }
http_api { enabled on; listen {{API}}; }
vhost __defaultVhost__ {
  hls { enabled on; hls_fragment 2; hls_window 30; hls_path ./html; }
  transcode live/livestream {
    enabled on;
    ffmpeg ffmpeg;
    abr { enabled on; source on; }
    ${ENGINE('180p', 320, 180, 150)}
    ${ENGINE('90p', 160, 90, 60)}
  }
}
`;

let server: RunningServer;
let browser: Browser | undefined;
const pubs: Proc[] = [];

before(async () => {
  server = await startServer({ config: CONFIG });
  writePlayerPage(join(server.dir, 'html'), 'hls.js');
  // Keyframe every 1 s (gop = fps), which divides hls_fragment 2: the source is a rung too.
  pubs.push(publish(server.rtmpUrl('live/livestream'), { seconds: 150, size: '640x360', fps: 10, gop: 10 }));
});

after(async () => {
  await browser?.close();
  for (const p of pubs) await p.stop();
  await server?.stop();
});

async function text(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

interface Media {
  seq: number;
  durations: number[];
  dates: number[];
}

function parseMedia(body: string): Media {
  const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(body)?.[1] ?? NaN);
  const durations = [...body.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
  const dates = [...body.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/g)].map((m) => Date.parse(m[1]!));
  return { seq, durations, dates };
}

/** The variant URIs of a multivariant playlist, resolved against its URL. */
function variantUrls(master: string, base: string): { attrs: string; url: string }[] {
  const lines = master.split('\n');
  const out: { attrs: string; url: string }[] = [];
  for (let i = 0; i < lines.length; i++) if (lines[i]!.startsWith('#EXT-X-STREAM-INF:')) out.push({ attrs: lines[i]!, url: new URL(lines[i + 1]!, base).toString() });
  return out;
}

/** The multivariant playlist once it lists all three variants, each with a few segments. */
async function ladder(): Promise<string> {
  const masterUrl = server.httpUrl('live/livestream_abr.m3u8');
  let master = '';
  // Each variant is listed once it has segments; wait until all three have a few.
  assert.ok(
    await waitFor(async () => {
      const r = await text(masterUrl);
      master = r.body;
      if (r.status !== 200 || (master.match(/#EXT-X-STREAM-INF/g) ?? []).length < 3) return false;
      const medias = await Promise.all(variantUrls(master, masterUrl).map(async (v) => parseMedia((await text(v.url)).body)));
      return medias.every((m) => m.durations.length >= 4);
    }, 60_000, 500),
    `three variants with segments: ${master}`,
  );
  return master;
}

test('the multivariant playlist lists the source and both renditions, ffprobe reads each at its size, and their segments line up', async (t) => {
  const masterUrl = server.httpUrl('live/livestream_abr.m3u8');
  const master = await ladder();
  const variants = variantUrls(master, masterUrl);
  assert.match(variants[0]!.attrs, /RESOLUTION=640x360/);
  assert.match(variants[1]!.attrs, /RESOLUTION=320x180/);
  assert.match(variants[2]!.attrs, /RESOLUTION=160x90/);
  // The engines' vprofile baseline: profile_idc 66 (0x42) in the SPS.
  assert.match(variants[1]!.attrs, /CODECS="avc1\.42/);
  assert.match(variants[2]!.attrs, /CODECS="avc1\.42/);
  for (const v of variants) {
    assert.match(v.attrs, /BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,RESOLUTION=\d+x\d+,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",FRAME-RATE=(9\.|10\.)\d{3}/);
    assert.match(v.url, /hls_ctx=/, 'each variant has its own hls_ctx session');
  }
  // The rungs' FFmpeg keeps the source's timestamps and keys where the source does.
  const children = ((await (await fetch(server.apiUrl('/api/v1/processes'))).json()) as { processes: { label: string; command: string }[] }).processes;
  assert.deepEqual(children.map((c) => c.label).sort(), ['/live/livestream 180p', '/live/livestream 90p']);
  for (const c of children) assert.match(c.command, / -preset ultrafast -copyts -force_key_frames source -acodec aac /);
  const bw = variants.map((v) => Number(/BANDWIDTH=(\d+)/.exec(v.attrs)![1]));
  assert.ok(bw[0]! > bw[1]! && bw[1]! > bw[2]!, `BANDWIDTH goes down the ladder: ${bw.join(' > ')}`);

  // ffprobe: one program per variant, each with its video size.
  const p = run('ffprobe', ['-v', 'error', '-show_entries', 'program=program_id:program_tags=variant_bitrate:stream=codec_type,codec_name,width,height,level', '-of', 'json', masterUrl], 60_000);
  let out = '';
  p.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  assert.equal(await p.done, 0, p.stderr());
  const programs = (JSON.parse(out) as { programs: { tags?: { variant_bitrate?: string }; streams: { codec_type: string; codec_name: string; width?: number; height?: number; level?: number }[] }[] }).programs;
  const sizes = programs.map((pr) => pr.streams.find((s) => s.codec_type === 'video')).map((s) => `${s?.codec_name} ${s?.width}x${s?.height}`);
  assert.deepEqual(sizes, ['h264 640x360', 'h264 320x180', 'h264 160x90']);
  assert.ok(programs.every((pr) => pr.streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac')), 'every variant has AAC audio');
  assert.deepEqual(programs.map((pr) => Number(pr.tags?.variant_bitrate)), bw);
  // CODECS' level byte is the level ffprobe reads from each variant's SPS.
  const levels = variants.map((v) => parseInt(/avc1\.[0-9a-f]{4}([0-9a-f]{2})/.exec(v.attrs)![1]!, 16));
  assert.deepEqual(levels, programs.map((pr) => pr.streams.find((s) => s.codec_type === 'video')?.level));

  // The same sequence number is the same media in every rendition: duration and date within a frame or two.
  const medias = await Promise.all(variants.map(async (v) => parseMedia((await text(v.url)).body)));
  t.diagnostic(master);
  t.diagnostic(`media sequences: ${medias.map((m) => `${m.seq} [${m.durations.join(' ')}]`).join(' | ')}`);
  const first = Math.max(...medias.map((m) => m.seq));
  const last = Math.min(...medias.map((m) => m.seq + m.durations.length - 1));
  assert.ok(last - first + 1 >= 3, `common sequence numbers: ${first}..${last} of ${medias.map((m) => `${m.seq}+${m.durations.length}`).join(', ')}`);
  for (let seq = first; seq <= last; seq++) {
    const d = medias.map((m) => m.durations[seq - m.seq]!);
    const at = medias.map((m) => m.dates[seq - m.seq]!);
    assert.ok(Math.max(...d) - Math.min(...d) <= 0.25, `segment ${seq}: durations ${d.join(', ')}`);
    assert.ok(Math.max(...at) - Math.min(...at) <= 250, `segment ${seq}: dates ${at.map((x) => new Date(x).toISOString()).join(', ')}`);
    assert.ok(Math.abs(d[0]! - 2) <= 0.25, `segment ${seq} is one hls_fragment: ${d[0]}`);
  }
});

interface AbrResult {
  error: string;
  levels: number[];
  startLevel: number;
  switchedTo: number[];
  framesAtCap: number;
  framesEnd: number;
  heightEnd: number;
  lowAt: number;
  framesAtLow: number;
}

test('hls.js plays the ladder from its top level and switches down when the bandwidth is capped', async () => {
  await ladder();
  browser = await launchPlayerBrowser();
  const page = await browser.newPage();
  // The cap: once the page calls capBandwidth(), every segment is held back as if it came at 400 kbit/s
  // (the 360p source needs ~1.1 Mbit/s, the 180p rung ~270 kbit/s).
  await capSegmentsOnCall(page, /\.ts(\?|$)/, 400);
  await page.goto(server.httpUrl('player/index.html'));
  const r = await page.evaluate(async (url): Promise<AbrResult> => {
    type Level = { height: number; bitrate: number };
    type HlsLike = { loadSource(u: string): void; attachMedia(v: HTMLVideoElement): void; on(e: string, cb: (ev: string, d: { fatal?: boolean; details?: string; level?: number; levels?: Level[] }) => void): void; levels: Level[]; currentLevel: number; destroy(): void };
    const H = (window as unknown as { Hls: { new (c: object): HlsLike; isSupported(): boolean; Events: Record<string, string> } }).Hls;
    const cap = (window as unknown as { capBandwidth(): Promise<void> }).capBandwidth;
    const res: AbrResult = { error: '', levels: [], startLevel: -1, switchedTo: [], framesAtCap: 0, framesEnd: 0, heightEnd: 0, lowAt: -1, framesAtLow: 0 };
    if (!H.isSupported()) return { ...res, error: 'MSE not supported' };
    const v = document.getElementById('v') as HTMLVideoElement;
    const frames = (): number => v.getVideoPlaybackQuality().totalVideoFrames;
    // Start on the top level (a fast first estimate), then let the ABR controller follow the measured bandwidth.
    const hls = new H({ startLevel: 0, abrEwmaDefaultEstimate: 20_000_000, testBandwidth: false });
    hls.on(H.Events.ERROR!, (_e, d) => {
      if (d.fatal) res.error = `fatal: ${d.details}`;
    });
    hls.on(H.Events.MANIFEST_PARSED!, (_e, d) => {
      res.levels = (d.levels ?? []).map((l) => l.height);
    });
    hls.on(H.Events.LEVEL_SWITCHED!, (_e, d) => {
      res.switchedTo.push(d.level!);
      if (res.lowAt < 0 && res.framesAtCap > 0 && (hls.levels[d.level!]?.height ?? 0) < 360) {
        res.lowAt = d.level!;
        res.framesAtLow = frames();
      }
    });
    hls.loadSource(url);
    hls.attachMedia(v);
    void v.play().catch(() => {});
    const wait = async (cond: () => boolean, ms: number): Promise<boolean> => {
      const until = performance.now() + ms;
      while (!cond() && !res.error && performance.now() < until) await new Promise((ok) => setTimeout(ok, 100));
      return cond();
    };
    // Playing the 360p level.
    await wait(() => v.currentTime > 2 && v.videoHeight === 360, 30_000);
    res.startLevel = hls.currentLevel;
    if (v.videoHeight !== 360) return { ...res, error: res.error || `not playing 360p: videoHeight ${v.videoHeight}` };
    res.framesAtCap = frames();
    await cap();
    // Down the ladder, then frames decoded at the lower level.
    await wait(() => res.lowAt >= 0 && v.videoHeight > 0 && v.videoHeight < 360 && frames() > res.framesAtLow + 20, 60_000);
    res.framesEnd = frames();
    res.heightEnd = v.videoHeight;
    hls.destroy();
    return res;
  }, server.httpUrl('live/livestream_abr.m3u8'));
  await page.close();
  assert.equal(r.error, '');
  assert.deepEqual(r.levels.slice().sort((a, b) => b - a), [360, 180, 90], `levels ${r.levels.join(',')}`);
  assert.ok(r.lowAt >= 0, `LEVEL_SWITCHED to a lower level after the cap: ${JSON.stringify(r)}`);
  assert.ok(r.heightEnd > 0 && r.heightEnd < 360, `the picture is smaller after the switch: ${r.heightEnd}`);
  assert.ok(r.framesEnd > r.framesAtLow + 20, `frames decoded after the switch: ${r.framesAtLow} → ${r.framesEnd} (${JSON.stringify(r)})`);
});
