import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaFrame } from '../../src/codec/media-frame.js';
import type { DvrConfig } from '../../src/config/vhost-config.js';
import { silentLogger } from '../../src/log/logger.js';
import { DvrRecording, type DvrFileNotice } from '../../src/outputs/dvr/dvr-recording.js';
import { waitFor } from '../helpers/wait.js';

const HVCC = readFileSync(new URL('../../../test/fixtures/hevc-160x120.hvcc', import.meta.url));

function cfg(dir: string, over: Partial<DvrConfig> = {}): DvrConfig {
  return { enabled: true, apply: ['all'], plan: 'segment', path: `${dir}/[app]/[stream].[timestamp].flv`, duration: 2, waitKeyframe: true, timeJitter: 'full', ...over };
}

/** Tags of an FLV file: [type, timestamp, first body byte]. */
function tags(file: Buffer): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let o = 13; o + 11 <= file.length; ) {
    const size = file.readUIntBE(o + 1, 3);
    out.push([file[o]!, file.readUIntBE(o + 4, 3) | (file[o + 7]! << 24), file[o + 11]!]);
    o += 11 + size + 4;
  }
  return out;
}

let clock = 1_000_000;
function recording(c: DvrConfig, notices: DvrFileNotice[]): DvrRecording {
  return new DvrRecording({
    vhost: 'v',
    app: 'live',
    stream: 's',
    cfg: c,
    utc: true,
    by: 'config',
    publisher: { id: 'c1', ip: '127.0.0.1', param: '', tcUrl: 'rtmp://v/live' },
    log: silentLogger(),
    onFile: (n) => notices.push(n),
    now: () => new Date(clock++),
  });
}

/** HEVC at 25 fps from `from` ms, a keyframe each second. */
function feed(r: DvrRecording, from: number, ms: number): void {
  for (let t = from; t < from + ms; t += 40) {
    const key = t % 1000 === 0;
    r.onFrame(new MediaFrame('video', 'HEVC', t, t, key, false, Buffer.from([0, 0, 0, 3, key ? 0x26 : 0x02, 1, 0xaf]), null));
  }
}

describe('DvrRecording', () => {
  test('segment plan cuts at H.265 keyframes; each file has the header and starts at 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dvr-unit-'));
    try {
      const notices: DvrFileNotice[] = [];
      const r = recording(cfg(dir), notices);
      r.onFrame(new MediaFrame('video', 'HEVC', 5000, 5000, false, true, HVCC, null));
      feed(r, 5000, 7000);
      await r.stop();
      assert.equal(notices.length, 4);
      for (const n of notices.slice(0, 3)) assert.equal(n.durationMs, 1960);
      for (const n of notices) {
        const t = tags(readFileSync(n.abs));
        assert.deepEqual(t[0], [9, 0, 0x90]); // the HEVC sequence header (Enhanced RTMP), at 0
        assert.equal(t[1]![1], 0); // the first frame, a keyframe, at 0
        assert.equal(t[1]![2] & 0xf0, 0x90);
        for (let i = 2; i < t.length; i++) assert.ok(t[i]![1] >= t[i - 1]![1]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a write error stops the file and is retried later; the recording resumes when writes work again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dvr-unit-'));
    try {
      // A plain file where the recording's directory should be: mkdir fails as a full or read-only disk would.
      writeFileSync(join(dir, 'live'), 'in the way');
      const notices: DvrFileNotice[] = [];
      const r = recording(cfg(dir, { plan: 'session' }), notices);
      r.onFrame(new MediaFrame('video', 'HEVC', 0, 0, false, true, HVCC, null));
      feed(r, 0, 1000);
      assert.ok(await waitFor(() => r.info().error !== null, 10_000));
      assert.match(r.info().error ?? '', /EEXIST|ENOTDIR/);
      rmSync(join(dir, 'live'));
      // The first retry is 1 s after the failure (real time, the backoff), at the next keyframe.
      await new Promise((res) => setTimeout(res, 1100));
      feed(r, 1000, 2000);
      await r.stop();
      assert.equal(notices.length, 1);
      assert.equal(readdirSync(join(dir, 'live')).length, 1);
      assert.equal(r.info().error, null);
      assert.equal(notices[0]!.durationMs, 1960);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
