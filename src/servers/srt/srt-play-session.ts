/**
 * An SRT player: its Consumer's frames become MPEG-TS (one muxer per
 * source, serialized once per frame for every SRT player of it) cut into
 * 1316-byte payloads (7 TS packets) and sent as the hub delivers them, so a
 * live source paces its players; the GOP-cache burst at start is spread by
 * the receiver's TSBPD. Works for any source, not only SRT publishers.
 */
import type { ClientType } from '../../core/client-registry.js';
import type { MediaFrame } from '../../codec/media-frame.js';
import { WireFormat } from '../../codec/wire-format.js';
import type { Consumer, FrameSink } from '../../live/consumer.js';
import type { LiveSource } from '../../live/live-source.js';
import { TsMuxer } from '../../format/mpegts-muxer.js';
import { TsError } from '../../format/mpegts-common.js';
import { SrtSession, type SrtSessionInit } from './srt-session.js';

const TS_FOR_SRT = new WireFormat<Buffer>('mpegts-srt');
const muxers = new WeakMap<LiveSource, TsMuxer>();
const EMPTY = Buffer.alloc(0);

export class SrtPlaySession extends SrtSession implements FrameSink {
  type: ClientType = 'srt-play';
  consumer: Consumer | null = null;
  source: LiveSource | null = null;
  /** Bytes short of a whole payload, sent with the next frame. */
  private pending: Buffer = EMPTY;

  constructor(
    init: SrtSessionInit,
    private readonly payloadSize: number,
  ) {
    super(init);
  }

  onPayloads(): void {
    // A player sends nothing we use.
  }

  encode(frame: MediaFrame): Buffer {
    const cached = frame.wire(TS_FOR_SRT);
    if (cached !== undefined) return cached;
    const source = this.source;
    if (!source) return EMPTY;
    let m = muxers.get(source);
    if (!m) muxers.set(source, (m = new TsMuxer()));
    let b: Buffer;
    try {
      b = m.muxFrame(frame) ?? EMPTY;
    } catch (err) {
      if (!(err instanceof TsError)) throw err;
      b = EMPTY;
    }
    return frame.setWire(TS_FOR_SRT, b);
  }

  write(chunks: Buffer[]): boolean {
    if (this.closed) return false;
    const now = performance.now() * 1000;
    let data = this.pending.length ? Buffer.concat([this.pending, ...chunks]) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    let o = 0;
    while (data.length - o >= this.payloadSize) {
      this.conn.send(data.subarray(o, o + this.payloadSize), now);
      o += this.payloadSize;
    }
    // Whole TS packets left over go now too: a live player should not wait for the next frame.
    const rest = data.length - o;
    const whole = rest - (rest % 188);
    if (whole > 0) {
      this.conn.send(data.subarray(o, o + whole), now);
      o += whole;
    }
    data = data.subarray(o);
    this.pending = data.length ? Buffer.from(data) : EMPTY;
    this.flushOut(this);
    return true;
  }

  end(reason: string): void {
    this.close(`stream ended: ${reason}`);
  }

  protected release(): void {
    this.pending = EMPTY;
  }
}
