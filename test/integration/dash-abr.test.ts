/**
 * The ABR ladder over MPEG-DASH with real clients: a 640x360 publish
 * (keyframe every 1 s) is transcoded by two engines to 320x180 and 160x90;
 * `livestream_abr.mpd` has one video AdaptationSet with the three
 * Representations (bandwidth, size, codecs, frameRate) and one audio
 * AdaptationSet; ffprobe lists the three video streams at their sizes and
 * ffmpeg decodes frames from each; the Representations' SegmentTimelines
 * give the same segment numbers the same start times and durations (cut on
 * one grid of the source's timeline), and the files they name are fMP4
 * fragments whose tfdt is that start time; and dash.js in headless
 * Chromium plays the ladder from its top Representation and, when the test
 * caps the bandwidth of segment downloads, switches to a lower one and goes
 * on decoding frames there.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { probe, publish, run, type Proc } from '../helpers/ffmpeg.js';
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
vhost __defaultVhost__ {
  dash { enabled on; dash_fragment 2; dash_update_period 2; dash_window_size 10; dash_path ./html; }
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
  writePlayerPage(join(server.dir, 'html'), 'dash.js');
  // Keyframe every 1 s (gop = fps), which divides dash_fragment 2.
  pubs.push(publish(server.rtmpUrl('live/livestream'), { seconds: 120, size: '640x360', fps: 10, gop: 10 }));
});

after(async () => {
  await browser?.close();
  for (const p of pubs) await p.stop();
  await server?.stop();
});

interface Rep {
  set: string;
  id: string;
  attrs: string;
  timescale: number;
  initialization: string;
  media: string;
  startNumber: number;
  segments: { n: number; t: number; d: number }[];
}

/** The Representations of an MPD written as writeLadderMpd does (each with its own SegmentTemplate). */
function parseLadder(mpd: string): Rep[] {
  const out: Rep[] = [];
  for (const set of mpd.split('<AdaptationSet ').slice(1)) {
    const kind = /contentType="(\w+)"/.exec(set)![1]!;
    for (const r of set.split('<Representation ').slice(1)) {
      const tpl = /<SegmentTemplate timescale="(\d+)" initialization="([^"]+)" media="([^"]+)" startNumber="(\d+)">/.exec(r)!;
      const start = Number(tpl[4]);
      const segments = [...r.matchAll(/<S t="(\d+)" d="(\d+)"\/>/g)].map((m, i) => ({ n: start + i, t: Number(m[1]), d: Number(m[2]) }));
      out.push({ set: kind, id: /id="([^"]+)"/.exec(r)![1]!, attrs: r.slice(0, r.indexOf('>')), timescale: Number(tpl[1]), initialization: tpl[2]!, media: tpl[3]!, startNumber: start, segments });
    }
  }
  return out;
}

/** The ladder MPD once its three video Representations each list a few segments. */
async function ladder(): Promise<string> {
  const url = server.httpUrl('live/livestream_abr.mpd');
  let body = '';
  let status = 0;
  assert.ok(
    await waitFor(async () => {
      const r = await fetch(url);
      status = r.status;
      body = await r.text();
      if (r.status !== 200) return false;
      const video = parseLadder(body).filter((r) => r.set === 'video');
      return video.length === 3 && video.every((v) => v.segments.length >= 4);
    }, 90_000, 500),
    `three video representations with segments: ${status} ${body}`,
  );
  return body;
}

/** The tfdt (baseMediaDecodeTime) of an fMP4 fragment. */
function tfdtOf(frag: Buffer): number {
  const i = frag.indexOf('tfdt', 0, 'latin1');
  assert.ok(i > 0, 'tfdt box');
  const version = frag[i + 4]!;
  return version === 1 ? Number(frag.readBigUInt64BE(i + 8)) : frag.readUInt32BE(i + 8);
}

test('one MPD for the ladder: a video AdaptationSet with the three rungs, one audio set, segments on one grid', async (t) => {
  const mpd = await ladder();
  t.diagnostic(mpd);
  const res = await fetch(server.httpUrl('live/livestream_abr.mpd'));
  assert.equal(res.headers.get('content-type'), 'application/dash+xml');
  assert.equal((mpd.match(/<AdaptationSet /g) ?? []).length, 2);
  const reps = parseLadder(mpd);
  const video = reps.filter((r) => r.set === 'video');
  const audio = reps.filter((r) => r.set === 'audio');
  assert.deepEqual(video.map((v) => v.id), ['livestream-video', 'livestream_180p-video', 'livestream_90p-video']);
  assert.equal(audio.length, 1);
  assert.match(audio[0]!.attrs, /codecs="mp4a\.40\.2"/);
  assert.match(mpd, /maxWidth="640" maxHeight="360"/);
  const sizes = video.map((v) => `${/ width="(\d+)"/.exec(v.attrs)?.[1]}x${/ height="(\d+)"/.exec(v.attrs)?.[1]}`);
  assert.deepEqual(sizes, ['640x360', '320x180', '160x90']);
  for (const v of video) {
    assert.match(v.attrs, /codecs="avc1\.[0-9a-f]{6}" bandwidth="\d+"/);
    assert.match(v.attrs, /frameRate="(9|10|\d+\/1000)"/);
  }
  assert.match(video[1]!.attrs, /codecs="avc1\.42/, 'the engines\' vprofile baseline');
  const bw = video.map((v) => Number(/bandwidth="(\d+)"/.exec(v.attrs)![1]));
  assert.ok(bw[0]! > bw[1]! && bw[1]! > bw[2]!, `bandwidth goes down the ladder: ${bw.join(' > ')}`);
  assert.deepEqual(video.map((v) => v.media), ['livestream/video-$Number$.m4s', 'livestream_180p/video-$Number$.m4s', 'livestream_90p/video-$Number$.m4s']);

  // The same number is the same media in every rung: start and duration within a frame or two.
  t.diagnostic(video.map((v) => `${v.id} ${v.startNumber}: ${v.segments.map((s) => `${s.t}+${s.d}`).join(' ')}`).join('\n'));
  const first = Math.max(...video.map((v) => v.startNumber));
  const last = Math.min(...video.map((v) => v.startNumber + v.segments.length - 1));
  assert.ok(last - first + 1 >= 3, `common segment numbers ${first}..${last}`);
  const ts = video[0]!.timescale;
  for (let n = first; n <= last; n++) {
    const s = video.map((v) => v.segments[n - v.startNumber]!);
    const starts = s.map((x) => x.t / ts);
    const durs = s.map((x) => x.d / ts);
    assert.ok(Math.max(...starts) - Math.min(...starts) <= 0.25, `segment ${n}: starts ${starts.join(', ')}`);
    assert.ok(Math.max(...durs) - Math.min(...durs) <= 0.25, `segment ${n}: durations ${durs.join(', ')}`);
    assert.ok(Math.abs(durs[0]! - 2) <= 0.25, `segment ${n} is one dash_fragment: ${durs[0]}`);
  }
  // The files behind one number: fMP4 fragments whose tfdt is the timeline's t, in every rung.
  const n = last;
  for (const v of video) {
    const seg = await fetch(new URL(v.media.replace('$Number$', String(n)), server.httpUrl('live/livestream_abr.mpd')));
    assert.equal(seg.status, 200, `${v.id} segment ${n}`);
    const frag = Buffer.from(await seg.arrayBuffer());
    assert.equal(frag.toString('latin1', 4, 8), 'moof');
    assert.equal(tfdtOf(frag), v.segments[n - v.startNumber]!.t, `${v.id} segment ${n}: tfdt = S@t`);
    const init = await fetch(new URL(v.initialization, server.httpUrl('live/livestream_abr.mpd')));
    assert.equal(init.status, 200);
  }
  // The rungs' own MPDs are still there, each with its rung's segments.
  const own = await fetch(server.httpUrl('live/livestream_180p.mpd'));
  assert.equal(own.status, 200);
});

test('ffprobe lists the three video representations of the ladder MPD and ffmpeg decodes each', async () => {
  await ladder();
  const url = server.httpUrl('live/livestream_abr.mpd');
  const r = await probe(url, 2);
  const sizes = r.streams.filter((s) => s.codec_type === 'video').map((s) => `${s.codec_name} ${s.width}x${s.height}`);
  assert.deepEqual(sizes.slice().sort(), ['h264 160x90', 'h264 320x180', 'h264 640x360']);
  assert.ok(r.streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac'), 'AAC audio');
  for (let i = 0; i < 3; i++) {
    const p = run('ffmpeg', ['-hide_banner', '-nostdin', '-rw_timeout', '10000000', '-i', url, '-map', `0:v:${i}`, '-t', '2', '-f', 'null', '-'], 60_000);
    const code = await p.done;
    const m = [...p.stderr().matchAll(/frame=\s*(\d+)/g)];
    const frames = m.length ? Number(m[m.length - 1]![1]) : 0;
    assert.equal(code, 0, p.stderr().slice(-500));
    assert.ok(frames >= 15, `video ${i}: decoded ${frames} frames: ${p.stderr().slice(-300)}`);
  }
});

interface DashResult {
  error: string;
  heights: number[];
  startHeight: number;
  switches: string[];
  framesAtCap: number;
  framesAtLow: number;
  framesEnd: number;
  heightEnd: number;
}

test('dash.js plays the ladder from its top Representation and switches down when the bandwidth is capped', async (t) => {
  await ladder();
  browser = await launchPlayerBrowser();
  const page = await browser.newPage();
  // The cap: once the page calls capBandwidth(), every segment is held back as if it came at 400 kbit/s
  // (the 360p source needs ~1 Mbit/s, the 180p rung ~200 kbit/s).
  await capSegmentsOnCall(page, /\.m4s(\?|$)/, 400);
  await page.goto(server.httpUrl('player/index.html'));
  const r = await page.evaluate(async (url): Promise<DashResult> => {
    type Rep = { height: number; bandwidth: number };
    type Player = {
      initialize(v: HTMLVideoElement, u: string, autoplay: boolean): void;
      updateSettings(s: object): void;
      on(e: string, cb: (ev: { mediaType?: string; newRepresentation?: Rep; error?: { code?: number; message?: string } }) => void): void;
      getRepresentationsByType(t: string): Rep[];
      reset(): void;
    };
    const D = (window as unknown as { dashjs: { MediaPlayer: (() => { create(): Player }) & { events: Record<string, string> } } }).dashjs;
    const cap = (window as unknown as { capBandwidth(): Promise<void> }).capBandwidth;
    const res: DashResult = { error: '', heights: [], startHeight: 0, switches: [], framesAtCap: 0, framesAtLow: 0, framesEnd: 0, heightEnd: 0 };
    const v = document.getElementById('v') as HTMLVideoElement;
    const frames = (): number => v.getVideoPlaybackQuality().totalVideoFrames;
    const player = D.MediaPlayer().create();
    // Start on the top Representation; the throughput of a held-back response counts its wait (no dead-time
    // correction, no Resource Timing, which would time the browser's cache, not the cap); same machine, no clock sync.
    player.updateSettings({
      streaming: {
        abr: { initialBitrate: { video: 20_000 }, autoSwitchBitrate: { video: true }, throughput: { useResourceTimingApi: false, useDeadTimeLatency: false } },
        utcSynchronization: { enabled: false },
      },
    });
    player.on(D.MediaPlayer.events.ERROR!, (e) => {
      res.error = `error: ${e.error?.code} ${e.error?.message}`;
    });
    player.on(D.MediaPlayer.events.STREAM_INITIALIZED!, () => {
      res.heights = player.getRepresentationsByType('video').map((x) => x.height);
    });
    player.on(D.MediaPlayer.events.QUALITY_CHANGE_RENDERED!, (e) => {
      if (e.mediaType !== 'video' || !e.newRepresentation) return;
      res.switches.push(`${e.newRepresentation.height}@${frames()}`);
      if (res.framesAtCap > 0 && res.framesAtLow === 0 && e.newRepresentation.height < 360) res.framesAtLow = frames();
    });
    player.initialize(v, url, true);
    const wait = async (cond: () => boolean, ms: number): Promise<boolean> => {
      const until = performance.now() + ms;
      while (!cond() && !res.error && performance.now() < until) await new Promise((ok) => setTimeout(ok, 100));
      return cond();
    };
    // Playing the 360p Representation.
    await wait(() => v.currentTime > 0 && frames() > 20 && v.videoHeight === 360, 40_000);
    res.startHeight = v.videoHeight;
    if (v.videoHeight !== 360) {
      player.reset();
      return { ...res, error: res.error || `not playing 360p: videoHeight ${v.videoHeight}, frames ${frames()}` };
    }
    res.framesAtCap = frames();
    await cap();
    // Down the ladder, then frames decoded at the lower level.
    await wait(() => res.framesAtLow > 0 && v.videoHeight > 0 && v.videoHeight < 360 && frames() > res.framesAtLow + 20, 60_000);
    res.framesEnd = frames();
    res.heightEnd = v.videoHeight;
    player.reset();
    return res;
  }, server.httpUrl('live/livestream_abr.mpd'));
  await page.close();
  t.diagnostic(JSON.stringify(r));
  assert.equal(r.error, '', JSON.stringify(r));
  assert.deepEqual(r.heights.slice().sort((a, b) => b - a), [360, 180, 90], `representations ${r.heights.join(',')}`);
  assert.equal(r.startHeight, 360);
  assert.ok(r.framesAtLow > 0, `a switch to a lower Representation after the cap: ${JSON.stringify(r)}`);
  assert.ok(r.heightEnd > 0 && r.heightEnd < 360, `the picture is smaller after the switch: ${JSON.stringify(r)}`);
  assert.ok(r.framesEnd > r.framesAtLow + 20, `frames decoded after the switch: ${JSON.stringify(r)}`);
});
