/**
 * H.265 over WebRTC to a WHEP player whose offer has H265: FFmpeg publishes
 * libx265 over SRT, a node-datachannel WHEP client offering H265 (RFC 7798)
 * receives the RTP, depacketizes it with Sluice's depacketizer, and FFmpeg's
 * decoder (not our parser) decodes the Annex-B it makes: frames at the
 * publisher's resolution. (Headless Chromium offers no H265: see docs/WEBRTC.md.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ndc from 'node-datachannel';
import { startServer } from '../helpers/server-process.js';
import { run } from '../helpers/ffmpeg.js';
import { RTC_PORT, until } from '../helpers/rtc-browser.js';
import { localOffer } from '../helpers/rtc-ndc-client.js';
import { H265Depacketizer, type H265AccessUnit } from '../../src/protocol/rtp/h265-depacketizer.js';
import { parseRtpHeader, isRtcp } from '../../src/protocol/rtp/rtp-packet.js';

const CONFIG = `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
srt_server { enabled on; listen {{SRT}}; }
rtc_server { enabled on; listen ${RTC_PORT}; candidate 127.0.0.1; }
vhost __defaultVhost__ {
  srt { enabled on; }
  rtc { enabled on; rtmp_to_rtc on; }
  play { gop_cache on; }
}
`;

test('an HEVC stream plays over WHEP as H.265 (RFC 7798) to a client that offers it; FFmpeg decodes what it got', { timeout: 90_000 }, async () => {
  const server = await startServer({ config: CONFIG });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-whep-h265-'));
  const pub = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '60', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:bframes=0', '-g', '25', '-f', 'mpegts', `srt://127.0.0.1:${server.port('SRT')}?streamid=#!::r=live/hevc,m=publish`], 90_000);
  const pc = new ndc.PeerConnection('h265-player', { iceServers: [] });
  try {
    await server.waitForLog((l) => l.msg === 'SRT connection accepted', 20_000);
    // Wait until the source has its HEVC sequence header (a player joining earlier is offered H.264).
    await until(async () => ((await (await fetch(server.apiUrl('api/v1/streams/'))).json()) as { streams: { name: string; video?: { codec: string } | null }[] }).streams.find((s) => s.name === 'hevc')?.video?.codec ?? '', (c) => /265|HEVC/i.test(c), 20_000);
    const v = new ndc.Video('0', 'RecvOnly');
    v.addH265Codec(98);
    const track = pc.addTrack(v);
    const units: H265AccessUnit[] = [];
    const depack = new H265Depacketizer();
    track.onMessage((m) => {
      if (isRtcp(m)) return;
      const h = parseRtpHeader(m);
      try {
        units.push(...depack.push(Buffer.from(m.subarray(h.payloadOffset, h.payloadEnd)), h.timestamp, h.marker, false));
      } catch {
        /* a damaged unit: the depacketizer waits for the next IRAP */
      }
    });
    const r = await fetch(server.apiUrl('rtc/v1/whep/?app=live&stream=hevc'), { method: 'POST', body: await localOffer(pc) });
    const answer = await r.text();
    assert.equal(r.status, 201, answer);
    assert.match(answer, /a=rtpmap:98 H265\/90000/, 'the answer takes H265');
    pc.setRemoteDescription(answer, 'answer');
    await until(async () => units.length, (n) => n >= 60, 40_000);
    assert.ok(units.length >= 60, `access units received: ${units.length}`);
    assert.ok(units[0]!.keyframe, 'the player starts at an IRAP picture');
    const file = join(dir, 'got.hevc');
    writeFileSync(file, Buffer.concat(units.flatMap((u) => u.nalus.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]))));
    const dec = spawnSync('ffmpeg', ['-hide_banner', '-xerror', '-stats', '-i', file, '-f', 'null', '-'], { timeout: 60_000 });
    const err = dec.stderr.toString();
    assert.equal(dec.status, 0, err);
    assert.match(err, /Video: hevc[^\n]*320x240/, 'HEVC at the publisher\'s size');
    const frames = Number([...err.matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1] ?? 0);
    assert.equal(frames, units.length, `FFmpeg decodes every access unit (${frames} of ${units.length})`);
  } finally {
    pc.close();
    await pub.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
