import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { TsMuxer, msTo90k } from '../../src/format/mpegts-muxer.js';
import { TsDemuxer, type TsPes } from '../../src/format/mpegts-demuxer.js';
import { TsError, TS_PID_AUDIO, TS_PID_VIDEO, TsStreamType, crc32Mpeg2 } from '../../src/format/mpegts-common.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const HVCC = readFileSync(new URL('../../../test/fixtures/hevc-160x120.hvcc', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]); // AAC LC, 44.1 kHz, stereo

function nals(...units: Buffer[]): Buffer {
  return Buffer.concat(units.flatMap((u) => [Buffer.from([0, 0, 0, 0].map((_, i) => (u.length >>> (24 - 8 * i)) & 0xff)), u]));
}

function video(dts: number, key: boolean, size = 3000, cts = 0): MediaFrame {
  const nal = Buffer.alloc(size, 0xab);
  nal[0] = key ? 0x65 : 0x41;
  return new MediaFrame('video', 'H264', dts, dts + cts, key, false, nals(nal), null);
}

function audio(dts: number, size = 200): MediaFrame {
  return new MediaFrame('audio', 'AAC', dts, dts, false, false, Buffer.alloc(size, 0x21), null);
}

function muxAll(m: TsMuxer, frames: MediaFrame[]): Buffer {
  return Buffer.concat(frames.map((f) => m.muxFrame(f)).filter((b): b is Buffer => b !== null));
}

describe('TsMuxer', () => {
  test('writes 188-byte packets with sync bytes, continuous counters and valid PSI CRCs', () => {
    const m = new TsMuxer();
    const vh = new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null);
    const ah = new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null);
    const ts = muxAll(m, [vh, ah, video(0, true, 5000), audio(0), video(40, false), audio(23)]);
    assert.equal(ts.length % 188, 0);
    const cc = new Map<number, number>();
    for (let o = 0; o < ts.length; o += 188) {
      assert.equal(ts[o], 0x47);
      const pid = ((ts[o + 1]! & 0x1f) << 8) | ts[o + 2]!;
      const c = ts[o + 3]! & 15;
      const prev = cc.get(pid);
      if (prev !== undefined) assert.equal(c, (prev + 1) & 15, `CC on PID ${pid}`);
      cc.set(pid, c);
      if (pid === 0) {
        const s = ts.subarray(o + 5);
        const len = ((s[1]! & 15) << 8) | s[2]!;
        assert.equal(crc32Mpeg2(s, 0, 3 + len - 4), s.readUInt32BE(3 + len - 4));
      }
    }
  });

  test('round trip: video as Annex-B with AUD, SPS/PPS before the IDR, PTS/DTS in 90 kHz; AAC as ADTS', () => {
    const m = new TsMuxer();
    const d = new TsDemuxer();
    const out: TsPes[] = [];
    out.push(...d.push(m.muxFrame(new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null))!));
    out.push(...d.push(m.muxFrame(new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null))!));
    out.push(...d.push(m.muxFrame(video(1000, true, 4000, 80))!));
    out.push(...d.push(m.muxFrame(audio(1010, 300))!));
    out.push(...d.push(m.muxFrame(video(1040, false, 1000))!));
    out.push(...d.flush());
    assert.equal(d.streams.get(TS_PID_VIDEO)?.streamType, TsStreamType.H264);
    assert.equal(d.streams.get(TS_PID_AUDIO)?.streamType, TsStreamType.AAC);
    assert.equal(d.pcrPid, TS_PID_VIDEO);
    assert.equal(d.continuityErrors, 0);
    const v = out.filter((p) => p.pid === TS_PID_VIDEO);
    assert.equal(v.length, 2);
    assert.equal(v[0]!.dts, 90000);
    assert.equal(v[0]!.pts, 90000 + 80 * 90);
    assert.ok(v[0]!.randomAccess);
    const es = v[0]!.payload;
    assert.deepEqual([...es.subarray(0, 6)], [0, 0, 0, 1, 0x09, 0xf0], 'AUD first');
    assert.equal(es[10]! & 0x1f, 7, 'SPS after the AUD');
    const ppsAt = es.indexOf(Buffer.from([0, 0, 0, 1, 0x68]));
    const idrAt = es.indexOf(Buffer.from([0, 0, 0, 1, 0x65]));
    assert.ok(ppsAt > 0 && idrAt > ppsAt, 'PPS before the IDR');
    assert.equal(es.length - idrAt, 4 + 4000);
    assert.equal(v[1]!.payload.indexOf(Buffer.from([0, 0, 0, 1, 0x67])), -1, 'no SPS before a non-IDR frame');
    const a = out.filter((p) => p.pid === TS_PID_AUDIO);
    assert.equal(a.length, 1);
    assert.equal(a[0]!.pts, 1010 * 90);
    assert.equal(a[0]!.payload[0], 0xff);
    assert.equal((a[0]!.payload[1]! & 0xf6), 0xf0);
    assert.equal(a[0]!.payload.length, 7 + 300);
    assert.equal(((a[0]!.payload[3]! & 3) << 11) | (a[0]!.payload[4]! << 3) | (a[0]!.payload[5]! >>> 5), 307, 'ADTS frame length');
  });

  test('PCR rides on the first packet of each video PES and equals the DTS', () => {
    const m = new TsMuxer();
    m.setVideoConfig('H264', AVCC);
    const ts = m.muxVideo(2000, 2000, true, nals(Buffer.from([0x65, 1, 2, 3])), false);
    assert.equal(ts.length, 188);
    assert.equal(ts[3]! & 0x30, 0x30, 'adaptation field + payload');
    assert.equal(ts[5]! & 0x50, 0x50, 'random access + PCR flags');
    const base = ts[6]! * 33554432 + ts[7]! * 131072 + ts[8]! * 512 + ts[9]! * 2 + (ts[10]! >>> 7);
    assert.equal(base, 2000 * 90);
  });

  test('HEVC: stream type 0x24, HEVC AUD and VPS/SPS/PPS before the IRAP', () => {
    const m = new TsMuxer();
    const d = new TsDemuxer();
    d.push(m.muxFrame(new MediaFrame('video', 'HEVC', 0, 0, false, true, HVCC, null))!);
    const idr = Buffer.from([0x26, 0x01, 0xaa, 0xbb]);
    const pes = [...d.push(m.muxFrame(new MediaFrame('video', 'HEVC', 0, 0, true, false, nals(idr), null))!), ...d.flush()];
    assert.equal(d.streams.get(TS_PID_VIDEO)?.streamType, TsStreamType.HEVC);
    const es = pes[0]!.payload;
    assert.deepEqual([...es.subarray(0, 7)], [0, 0, 0, 1, 0x46, 0x01, 0x50]);
    assert.equal((es[11]! >>> 1) & 0x3f, 32, 'VPS first');
  });

  test('audio-only: PCR on the audio PID, MP3 as stream type 3', () => {
    const m = new TsMuxer();
    const d = new TsDemuxer();
    const mp3 = Buffer.from([0xff, 0xfb, 0x90, 0x64, ...Buffer.alloc(413)]);
    const ts = m.muxFrame(new MediaFrame('audio', 'MP3', 500, 500, false, false, mp3, null))!;
    d.push(m.tables());
    const pes = [...d.push(ts), ...d.flush()];
    assert.equal(d.streams.get(TS_PID_AUDIO)?.streamType, TsStreamType.MP3);
    assert.equal(d.pcrPid, TS_PID_AUDIO);
    assert.equal(d.lastPcr, 500 * 90);
    assert.deepEqual(pes[0]!.payload, mp3);
  });

  test('timestamps wrap at 33 bits; packet counts are exact for every payload size', () => {
    assert.equal(msTo90k(-1), 2 ** 33 - 90);
    assert.equal(msTo90k(2 ** 33 / 90 + 1), 90);
    const m = new TsMuxer();
    m.setVideoConfig('H264', AVCC);
    m.setAudioConfig('AAC', ASC);
    for (let size = 1; size < 800; size += 7) {
      const d = new TsDemuxer();
      d.push(m.tables());
      const ts = m.muxAudio(10, Buffer.alloc(size, 7));
      const pes = [...d.push(ts), ...d.flush()];
      assert.equal(pes[0]!.payload.length, size + 7);
      const tv = m.muxVideo(10, 10, false, nals(Buffer.alloc(size, 0x41)), false);
      const d2 = new TsDemuxer();
      d2.push(m.tables());
      const pv = [...d2.push(tv), ...d2.flush()];
      assert.equal(pv[0]!.payload.length, 6 + 4 + size);
    }
  });

  test('bad input raises TsError', () => {
    const m = new TsMuxer();
    assert.throws(() => m.setVideoConfig('H264', Buffer.from([1, 2, 3])), TsError);
    m.setVideoConfig('H264', AVCC);
    assert.throws(() => m.muxVideo(0, 0, false, Buffer.from([0, 0, 0, 9, 1]), false), TsError);
    assert.throws(() => new TsMuxer().muxAudio(0, Buffer.alloc(3)), TsError);
    assert.throws(() => m.setAudioConfig('AAC', Buffer.from([0])), TsError);
  });

  test('fuzz: the demuxer parses or throws TsError on random and mutated streams, in bounded time', () => {
    const m = new TsMuxer();
    const good = muxAll(m, [
      new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null),
      new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null),
      video(0, true, 2000),
      audio(5),
      video(40, false, 700),
    ]);
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const started = process.cpuUsage(); // CPU, not wall time: a busy machine must not fail it
    for (let i = 0; i < 2000; i++) {
      const buf = i % 2 ? Buffer.from(good) : Buffer.alloc(188 * (1 + Math.floor(rnd() * 6)), 0);
      if (i % 2 === 0) for (let j = 0; j < buf.length; j++) buf[j] = j % 188 === 0 && rnd() < 0.9 ? 0x47 : Math.floor(rnd() * 256);
      else for (let k = 0; k < 1 + Math.floor(rnd() * 20); k++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      const d = new TsDemuxer({ maxPesBytes: 1 << 16 });
      try {
        d.push(buf.subarray(0, Math.floor(rnd() * buf.length)));
        d.push(buf.subarray(Math.floor(rnd() * 0)));
        d.flush();
      } catch (err) {
        assert.ok(err instanceof TsError, `unexpected ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    assert.ok(cpuMsSince(started) < 10_000);
  });
});
