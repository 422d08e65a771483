/**
 * A small MPEG-TS demuxer: PAT → PMT → PES per elementary stream. Sans-IO:
 * push any chunking of bytes, get whole PES payloads back. Used to check what
 * the muxer writes and by ingest paths that receive TS. Bounded: a PES larger
 * than `maxPesBytes` is an error, not a growing buffer.
 */
import { TS_PACKET_SIZE, TS_SYNC_BYTE, TsError, crc32Mpeg2 } from './mpegts-common.js';

export interface TsStreamInfo {
  pid: number;
  streamType: number;
  /** The format_identifier of the ES's registration descriptor (tag 5), e.g. 'Opus'; null without one. */
  registration: string | null;
  /** The ES's descriptor loop as it came (a copy). */
  esInfo: Buffer;
}

export interface TsPes {
  pid: number;
  streamType: number;
  streamId: number;
  registration: string | null;
  esInfo: Buffer;
  /** 90 kHz, or -1 when absent. */
  pts: number;
  dts: number;
  randomAccess: boolean;
  payload: Buffer;
}

export interface TsDemuxerOptions {
  maxPesBytes?: number;
}

interface PesState {
  chunks: Buffer[];
  size: number;
  randomAccess: boolean;
  cc: number;
}

export class TsDemuxer {
  readonly streams = new Map<number, TsStreamInfo>();
  pmtPid = -1;
  pcrPid = -1;
  lastPcr = -1;
  continuityErrors = 0;
  private readonly pending = new Map<number, PesState>();
  private rest: Buffer | null = null;
  private readonly maxPes: number;

  constructor(options: TsDemuxerOptions = {}) {
    this.maxPes = options.maxPesBytes ?? 8 * 1024 * 1024;
  }

  /** Feeds bytes; returns the PES packets completed by them. Throws TsError on bad input. */
  push(data: Buffer): TsPes[] {
    const out: TsPes[] = [];
    let buf = data;
    if (this.rest) {
      buf = Buffer.concat([this.rest, data]);
      this.rest = null;
    }
    let off = 0;
    while (off + TS_PACKET_SIZE <= buf.length) {
      if (buf[off] !== TS_SYNC_BYTE) throw new TsError(`lost sync at byte ${off} (0x${buf[off]!.toString(16)})`);
      this.packet(buf.subarray(off, off + TS_PACKET_SIZE), out);
      off += TS_PACKET_SIZE;
    }
    if (off < buf.length) this.rest = Buffer.from(buf.subarray(off));
    return out;
  }

  /** Ends the input: the PES packets still open are returned. */
  flush(): TsPes[] {
    const out: TsPes[] = [];
    for (const pid of [...this.pending.keys()]) this.finish(pid, out);
    return out;
  }

  private packet(p: Buffer, out: TsPes[]): void {
    const pusi = (p[1]! & 0x40) !== 0;
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const afc = (p[3]! >>> 4) & 3;
    const cc = p[3]! & 15;
    let o = 4;
    let randomAccess = false;
    if (afc === 0) throw new TsError(`packet on PID ${pid} with reserved adaptation_field_control 0`);
    if (afc & 2) {
      const afLen = p[4]!;
      if (afLen > 183) throw new TsError(`adaptation field of ${afLen} bytes does not fit`);
      if (afLen > 0) {
        const flags = p[5]!;
        randomAccess = (flags & 0x40) !== 0;
        if (flags & 0x10 && afLen >= 7) {
          this.lastPcr = p[6]! * 33554432 + p[7]! * 131072 + p[8]! * 512 + p[9]! * 2 + (p[10]! >>> 7);
        }
      }
      o = 5 + afLen;
    }
    if (!(afc & 1) || o >= TS_PACKET_SIZE) return;
    const payload = p.subarray(o);
    if (pid === 0) return this.psi(payload, pusi, (s) => this.pat(s));
    if (pid === this.pmtPid) return this.psi(payload, pusi, (s) => this.pmt(s));
    const info = this.streams.get(pid);
    if (!info) return;
    let st = this.pending.get(pid);
    if (pusi) {
      if (st) this.finish(pid, out);
      st = { chunks: [], size: 0, randomAccess, cc };
      this.pending.set(pid, st);
    } else if (!st) return;
    else {
      if (((st.cc + 1) & 15) !== cc) this.continuityErrors++;
      st.cc = cc;
    }
    st.size += payload.length;
    if (st.size > this.maxPes) throw new TsError(`PES on PID ${pid} exceeds ${this.maxPes} bytes`);
    st.chunks.push(payload);
  }

  private psi(payload: Buffer, pusi: boolean, handle: (section: Buffer) => void): void {
    if (!pusi) return; // our tables fit in one packet
    const pointer = payload[0]!;
    const s = payload.subarray(1 + pointer);
    if (s.length < 3) throw new TsError('PSI section truncated');
    const len = ((s[1]! & 0x0f) << 8) | s[2]!;
    if (3 + len > s.length || len < 9) throw new TsError(`PSI section of ${len} bytes does not fit`);
    const crc = s.readUInt32BE(3 + len - 4);
    if (crc32Mpeg2(s, 0, 3 + len - 4) !== crc) throw new TsError('PSI CRC mismatch');
    handle(s.subarray(0, 3 + len - 4));
  }

  private pat(s: Buffer): void {
    if (s[0] !== 0) throw new TsError(`PAT table_id ${s[0]}`);
    for (let o = 8; o + 4 <= s.length; o += 4) {
      const program = s.readUInt16BE(o);
      if (program !== 0) this.pmtPid = s.readUInt16BE(o + 2) & 0x1fff;
    }
  }

  private pmt(s: Buffer): void {
    if (s[0] !== 2) throw new TsError(`PMT table_id ${s[0]}`);
    this.pcrPid = s.readUInt16BE(8) & 0x1fff;
    const infoLen = s.readUInt16BE(10) & 0x0fff;
    let o = 12 + infoLen;
    this.streams.clear();
    while (o + 5 <= s.length) {
      const type = s[o]!;
      const pid = s.readUInt16BE(o + 1) & 0x1fff;
      const esLen = s.readUInt16BE(o + 3) & 0x0fff;
      const esInfo = Buffer.from(s.subarray(o + 5, Math.min(s.length, o + 5 + esLen)));
      this.streams.set(pid, { pid, streamType: type, registration: registrationOf(esInfo), esInfo });
      o += 5 + esLen;
    }
  }

  private finish(pid: number, out: TsPes[]): void {
    const st = this.pending.get(pid);
    this.pending.delete(pid);
    const info = this.streams.get(pid);
    if (!st || !info || st.size === 0) return;
    const pes = st.chunks.length === 1 ? st.chunks[0]! : Buffer.concat(st.chunks, st.size);
    if (pes.length < 9 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) throw new TsError(`PID ${pid}: PES start code missing`);
    const flags = pes[7]!;
    const hdrLen = pes[8]!;
    if (9 + hdrLen > pes.length) throw new TsError(`PID ${pid}: PES header of ${hdrLen} bytes does not fit`);
    const pts = flags & 0x80 ? readTimestamp(pes, 9) : -1;
    const dts = (flags & 0xc0) === 0xc0 ? readTimestamp(pes, 14) : pts;
    let payload = pes.subarray(9 + hdrLen);
    const declared = pes.readUInt16BE(4);
    if (declared > 0) {
      if (6 + declared > pes.length) throw new TsError(`PID ${pid}: PES shorter than its declared ${declared} bytes`);
      payload = pes.subarray(9 + hdrLen, 6 + declared);
    }
    out.push({ pid, streamType: info.streamType, streamId: pes[3]!, registration: info.registration, esInfo: info.esInfo, pts, dts, randomAccess: st.randomAccess, payload });
  }
}

function readTimestamp(b: Buffer, o: number): number {
  if (o + 5 > b.length) throw new TsError('PES timestamp truncated');
  return ((b[o]! >>> 1) & 7) * 1073741824 + (b[o + 1]! << 22) + ((b[o + 2]! >>> 1) << 15) + (b[o + 3]! << 7) + (b[o + 4]! >>> 1);
}

/** The format_identifier of a registration descriptor (ISO/IEC 13818-1 2.6.8) in a descriptor loop. */
function registrationOf(d: Buffer): string | null {
  let o = 0;
  while (o + 2 <= d.length) {
    const tag = d[o]!;
    const len = d[o + 1]!;
    if (tag === 5 && len >= 4 && o + 6 <= d.length) return d.toString('latin1', o + 2, o + 6);
    o += 2 + len;
  }
  return null;
}
