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
import { H265Packetizer, hevcNalType } from '../../src/protocol/rtp/h265-packetizer.js';
import { H265Depacketizer } from '../../src/protocol/rtp/h265-depacketizer.js';
import { parseRtpHeader } from '../../src/protocol/rtp/rtp-packet.js';

const payload = (p: Buffer): Buffer => {
  const h = parseRtpHeader(p);
  return p.subarray(h.payloadOffset, h.payloadEnd);
};

test('a libx265 stream through RTP packets of 600 bytes decodes in FFmpeg: every frame, the resolution kept', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-h265-'));
  try {
    const src = join(dir, 'in.hevc');
    const enc = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-frames:v', '50', '-c:v', 'libx265', '-x265-params', 'keyint=25:bframes=0:log-level=error', '-f', 'hevc', src], { timeout: 60_000 });
    if (enc.status !== 0) return t.skip(`libx265 unavailable: ${enc.stderr.toString()}`);
    const bytes = readFileSync(src);
    // Annex-B → access units (a new one at each VPS/AUD or first slice segment).
    const nals: Buffer[] = [];
    let start = -1;
    for (let i = 0; i + 3 <= bytes.length; i++) {
      if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
        if (start >= 0) nals.push(bytes.subarray(start, i - (bytes[i - 1] === 0 ? 1 : 0)));
        start = i + 3;
        i += 2;
      }
    }
    nals.push(bytes.subarray(start));
    const aus: Buffer[][] = [];
    for (const n of nals) {
      const type = hevcNalType(n[0]!);
      const firstSlice = type < 32 && (n[2]! & 0x80) !== 0;
      if (!aus.length || type === 32 || type === 35 || (firstSlice && aus.at(-1)!.some((x) => hevcNalType(x[0]!) < 32))) aus.push([]);
      aus.at(-1)!.push(n);
    }
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
