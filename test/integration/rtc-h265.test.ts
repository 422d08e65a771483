/**
 * H.265 over WebRTC (RFC 7798), both ways. To a WHEP player whose offer has H265: FFmpeg publishes
 * libx265 over SRT, a node-datachannel WHEP client offering H265 (RFC 7798)
 * receives the RTP, depacketizes it with Sluice's depacketizer, and FFmpeg's
 * decoder (not our parser) decodes the Annex-B it makes: frames at the
 * publisher's resolution. From a WHIP publisher that offers only H265 (a
 * node-datachannel client sending a libx265 stream): the frame form is HEVC
 * and FFmpeg decodes it from SRT. (Headless Chromium offers no H265: see docs/WEBRTC.md.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ndc from 'node-datachannel';
import { startServer } from '../helpers/server-process.js';
import { decodeFrames, probe, run } from '../helpers/ffmpeg.js';
import { RTC_PORT, until } from '../helpers/rtc-browser.js';
import { localOffer } from '../helpers/rtc-ndc-client.js';
import { H265Depacketizer, type H265AccessUnit } from '../../src/protocol/rtp/h265-depacketizer.js';
import { H265Packetizer } from '../../src/protocol/rtp/h265-packetizer.js';
import { parseRtpHeader, isRtcp } from '../../src/protocol/rtp/rtp-packet.js';
import { hevcAccessUnits } from '../helpers/hevc-annexb.js';

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


test('a WHIP publisher offering only H265 is bridged to the frame form as HEVC: FFmpeg decodes it over SRT', { timeout: 90_000 }, async () => {
  const server = await startServer({ config: CONFIG.replace('rtc { enabled on; rtmp_to_rtc on; }', 'rtc { enabled on; rtc_to_rtmp on; pli_for_rtmp 1; }') });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-whip-h265-'));
  const pc = new ndc.PeerConnection('h265-publisher', { iceServers: [] });
  let timer: NodeJS.Timeout | null = null;
  try {
    const src = join(dir, 'in.hevc');
    const enc = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-frames:v', '250', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=25:bframes=0:repeat-headers=1:log-level=error', '-f', 'hevc', src], { timeout: 60_000 });
    assert.equal(enc.status, 0, enc.stderr.toString());
    const aus = hevcAccessUnits(readFileSync(src));
    const v = new ndc.Video('0', 'SendOnly');
    v.addH265Codec(98);
    v.addSSRC(0x2650001, 'h265', 'h265', 'h265-video');
    const track = pc.addTrack(v);
    const r = await fetch(server.apiUrl('rtc/v1/whip/?app=live&stream=fromwhip'), { method: 'POST', body: await localOffer(pc) });
    const answer = await r.text();
    assert.equal(r.status, 201, answer);
    assert.match(answer, /a=rtpmap:98 H265\/90000/);
    pc.setRemoteDescription(answer, 'answer');
    const pk = new H265Packetizer({ ssrc: 0x2650001, payloadType: 98 });
    let i = 0;
    timer = setInterval(() => {
      if (!track.isOpen()) return;
      for (const p of pk.packetize(aus[i % aus.length]!, (i * 3600) >>> 0)) track.sendMessageBinary(p);
      i++;
    }, 40);
    const header = await server.waitForLog((l) => l.msg === 'rtc_to_rtmp: H.265 sequence header', 20_000);
    assert.ok(Number(header.bytes) > 20);
    const url = `srt://127.0.0.1:${server.port('SRT')}?streamid=#!::r=live/fromwhip,m=request`;
    const pr = await probe(url, 2);
    const vs = pr.streams.find((s) => s.codec_type === 'video');
    assert.equal(vs?.codec_name, 'hevc', JSON.stringify(pr.streams));
    assert.deepEqual([vs?.width, vs?.height], [640, 360]);
    const d = await decodeFrames(url, 2);
    assert.ok(d.frames >= 25, `FFmpeg decodes the bridged HEVC: ${d.frames} frames; ${d.stderr.slice(-300)}`);
  } finally {
    if (timer) clearInterval(timer);
    pc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
