import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MediaFrame } from '../../src/codec/media-frame.js';
import { Mp4Error, fmp4Fragment, fmp4InitSegment, rfc6381Codec, type Fmp4Track } from '../../src/format/fmp4.js';
import { Fmp4TrackBuffer, fmp4TrackFromFrame } from '../../src/format/fmp4-track-buffer.js';

const AVCC = readFileSync(new URL('../../../test/fixtures/h264-baseline-720p.avcc', import.meta.url));
const HVCC = readFileSync(new URL('../../../test/fixtures/hevc-160x120.hvcc', import.meta.url));
const ASC = Buffer.from([0x12, 0x10]);

interface Box {
  type: string;
  start: number;
  size: number;
  body: Buffer;
}

function boxes(buf: Buffer, from = 0, to = buf.length): Box[] {
  const out: Box[] = [];
  let o = from;
  while (o + 8 <= to) {
    const size = buf.readUInt32BE(o);
    assert.ok(size >= 8 && o + size <= to, `box at ${o} has size ${size}`);
    out.push({ type: buf.toString('latin1', o + 4, o + 8), start: o, size, body: buf.subarray(o + 8, o + size) });
    o += size;
  }
  assert.equal(o, to, 'boxes fill their parent exactly');
  return out;
}

function find(buf: Buffer, path: string[]): Box {
  let list = boxes(buf);
  let cur: Box | undefined;
  for (const t of path) {
    cur = list.find((b) => b.type === t);
    assert.ok(cur, `no ${t} box`);
    const containers = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf', 'dinf'];
    if (containers.includes(t)) list = boxes(buf, cur.start + 8, cur.start + cur.size);
  }
  return cur!;
}

const video = (): Fmp4Track => fmp4TrackFromFrame(1, new MediaFrame('video', 'H264', 0, 0, false, true, AVCC, null))!;
const audio = (): Fmp4Track => fmp4TrackFromFrame(2, new MediaFrame('audio', 'AAC', 0, 0, false, true, ASC, null))!;

describe('fMP4 writer', () => {
  test('init segment: ftyp + moov with avc1/avcC and mp4a/esds traks and trex', () => {
    const init = fmp4InitSegment([video(), audio()]);
    const top = boxes(init);
    assert.deepEqual(top.map((b) => b.type), ['ftyp', 'moov']);
    const moov = boxes(init, top[1]!.start + 8, top[1]!.start + top[1]!.size);
    assert.deepEqual(moov.map((b) => b.type), ['mvhd', 'trak', 'trak', 'mvex']);
    const tkhd = find(init, ['moov', 'trak', 'tkhd']);
    assert.equal(tkhd.body.readUInt32BE(12), 1, 'track id');
    assert.equal(tkhd.body.readUInt32BE(76) >>> 16, 1280);
    const stsd = find(init, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd']);
    assert.equal(stsd.body.toString('latin1', 12, 16), 'avc1');
    assert.ok(init.includes(AVCC), 'avcC record is embedded');
    assert.ok(init.includes(Buffer.from('esds')));
    assert.ok(init.includes(Buffer.concat([Buffer.from([0x05, 0x80, 0x80, 0x80, 0x02]), ASC])), 'ASC as DecoderSpecificInfo');
    const hevc = fmp4InitSegment([fmp4TrackFromFrame(1, new MediaFrame('video', 'HEVC', 0, 0, false, true, HVCC, null))!]);
    assert.ok(hevc.includes(Buffer.from('hvc1')) && hevc.includes(Buffer.from('hvcC')));
  });

  test('fragment: moof/mdat, tfdt, trun data offset points at the samples', () => {
    const v = video();
    const a = audio();
    const s1 = Buffer.from([0, 0, 0, 2, 0x65, 1]);
    const s2 = Buffer.from([0, 0, 0, 2, 0x41, 2]);
    const frag = fmp4Fragment(9, [
      { track: v, baseDecodeTime: 2 ** 33 + 5, samples: [{ duration: 3600, cts: 0, keyframe: true, data: s1 }, { duration: 3600, cts: 7200, keyframe: false, data: s2 }] },
      { track: a, baseDecodeTime: 1024, samples: [{ duration: 1024, cts: 0, keyframe: true, data: Buffer.from([9, 9, 9]) }] },
    ]);
    const top = boxes(frag);
    assert.deepEqual(top.map((b) => b.type), ['moof', 'mdat']);
    assert.equal(find(frag, ['moof', 'mfhd']).body.readUInt32BE(4), 9);
    const trafs = boxes(frag, top[0]!.start + 8, top[0]!.start + top[0]!.size).filter((b) => b.type === 'traf');
    assert.equal(trafs.length, 2);
    const parts = boxes(frag, trafs[0]!.start + 8, trafs[0]!.start + trafs[0]!.size);
    const tfdt = parts.find((b) => b.type === 'tfdt')!.body;
    assert.equal(tfdt.readUInt32BE(4) * 2 ** 32 + tfdt.readUInt32BE(8), 2 ** 33 + 5);
    const trun = parts.find((b) => b.type === 'trun')!.body;
    assert.equal(trun.readUInt32BE(4), 2);
    const off = trun.readInt32BE(8);
    assert.deepEqual(frag.subarray(off, off + s1.length), s1);
    assert.equal(trun.readUInt32BE(12 + 16 + 8), 0x01010000, 'second sample is not a sync sample');
    assert.equal(trun.readInt32BE(12 + 16 + 12), 7200, 'composition offset');
    const atrun = boxes(frag, trafs[1]!.start + 8, trafs[1]!.start + trafs[1]!.size).find((b) => b.type === 'trun')!.body;
    assert.deepEqual(frag.subarray(atrun.readInt32BE(8), atrun.readInt32BE(8) + 3), Buffer.from([9, 9, 9]));
  });

  test('track buffer: durations from the next sample, AAC snapped to 1024 ticks', () => {
    const b = new Fmp4TrackBuffer(audio());
    for (const ms of [0, 23, 46, 70, 93]) b.add(new MediaFrame('audio', 'AAC', ms, ms, false, false, Buffer.alloc(10), null));
    const run = b.drain(116)!;
    assert.equal(run.baseDecodeTime, 0);
    assert.deepEqual(run.samples.map((s) => s.duration), [1024, 1024, 1024, 1024, 1024]);
    const vb = new Fmp4TrackBuffer(video());
    vb.add(new MediaFrame('video', 'H264', 1000, 1080, true, false, Buffer.alloc(5), null));
    vb.add(new MediaFrame('video', 'H264', 1040, 1040, false, false, Buffer.alloc(5), null));
    const vr = vb.drain(1080)!;
    assert.equal(vr.baseDecodeTime, 90000);
    assert.deepEqual(vr.samples.map((s) => [s.duration, s.cts, s.keyframe]), [[3600, 7200, true], [3600, 0, false]]);
  });

  test('codec strings, and Mp4Error on bad configs', () => {
    assert.equal(rfc6381Codec('H264', AVCC), 'avc1.42c01f');
    assert.equal(rfc6381Codec('AAC', ASC), 'mp4a.40.2');
    assert.match(rfc6381Codec('HEVC', HVCC), /^hvc1\.\d+\.[0-9A-F]+\.[LH]\d+/);
    assert.throws(() => rfc6381Codec('H264', Buffer.from([1])), Mp4Error);
    assert.throws(() => fmp4TrackFromFrame(1, new MediaFrame('video', 'H264', 0, 0, false, true, Buffer.from([1, 2]), null)), Mp4Error);
    assert.throws(() => fmp4InitSegment([]), Mp4Error);
    // fuzz: random configs either build or raise Mp4Error
    let seed = 3;
    for (let i = 0; i < 500; i++) {
      const buf = Buffer.from(AVCC);
      for (let k = 0; k < 4; k++) buf[(seed = (seed * 69069 + 1) >>> 0) % buf.length] = seed & 0xff;
      try {
        const t = fmp4TrackFromFrame(1, new MediaFrame('video', 'H264', 0, 0, false, true, buf.subarray(0, seed % buf.length), null));
        if (t) fmp4InitSegment([t]);
      } catch (err) {
        assert.ok(err instanceof Mp4Error, (err as Error).message);
      }
    }
  });
});
