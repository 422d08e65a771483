/**
 * A libx265 stream (50 frames, 640x360) cut into RTP packets of 600 bytes
 * by the RFC 7798 packetizer and rebuilt by the depacketizer decodes in
 * FFmpeg: every frame, the resolution kept (a real decoder confirms the
 * bitstream, not our own parser).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { H265Packetizer } from '../../src/protocol/rtp/h265-packetizer.js';
import { H265Depacketizer } from '../../src/protocol/rtp/h265-depacketizer.js';
import { parseRtpHeader } from '../../src/protocol/rtp/rtp-packet.js';
import { hevcAccessUnits } from '../helpers/hevc-annexb.js';

const payload = (p: Buffer): Buffer => {
  const h = parseRtpHeader(p);
  return p.subarray(h.payloadOffset, h.payloadEnd);
};

test('a libx265 stream through RTP packets of 600 bytes decodes in FFmpeg: every frame, the resolution kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-h265-'));
  try {
    const src = join(dir, 'in.hevc');
    const enc = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-frames:v', '50', '-c:v', 'libx265', '-x265-params', 'keyint=25:bframes=0:log-level=error', '-f', 'hevc', src], { timeout: 60_000 });
    // Debian's ffmpeg (installed by install-test-deps) has libx265: its absence is a failure, not a skip.
    assert.equal(enc.status, 0, `libx265 encode failed: ${enc.stderr.toString()}`);
    const bytes = readFileSync(src);
    const aus = hevcAccessUnits(bytes);
    const pk = new H265Packetizer({ ssrc: 7, payloadType: 96, maxPayload: 600 });
    const d = new H265Depacketizer();
    const outAus = aus.flatMap((au, i) => pk.packetize(au, i * 3600).flatMap((p) => d.push(payload(p), i * 3600, parseRtpHeader(p).marker, false)));
    assert.equal(outAus.length, aus.length, 'every access unit comes out');
    const annexB = Buffer.concat(outAus.flatMap((u) => u.nalus.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n])));
    const out = join(dir, 'out.hevc');
    writeFileSync(out, annexB);
    // -xerror: a decoding error fails the run; -stats prints the frame count.
    const dec = spawnSync('ffmpeg', ['-hide_banner', '-xerror', '-stats', '-i', out, '-f', 'null', '-'], { timeout: 60_000 });
    const err = dec.stderr.toString();
    assert.equal(dec.status, 0, err);
    assert.match(err, /Video: hevc[^\n]*640x360/, 'FFmpeg sees HEVC at the source\'s size');
    const frames = [...err.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1]));
    assert.equal(frames.at(-1), 50, `every frame decodes: ${err.slice(-400)}`);
    assert.doesNotMatch(err, /error|Invalid|corrupt/i, 'without a decoder complaint');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
