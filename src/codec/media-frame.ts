/**
 * MediaFrame: the one object that flows from every ingest to every egress.
 *
 * One codec-level access unit (a video frame, an audio frame, or script data)
 * with dts/pts in milliseconds. Sequence headers (AVC/HEVC decoder configuration,
 * AudioSpecificConfig) and metadata travel as frames of their own with
 * `header: true` (or kind 'script'), and the live source remembers them.
 *
 * The fan-out principle (serialize once per frame per output format, never per
 * player) lives in the wire slots: an egress registers a WireFormat, the first
 * of its players that needs the frame's bytes fills the frame's slot, every
 * other player reuses them. The slots are one small array indexed by the
 * form's id (no Map per frame), and fields are plain and fixed so that V8
 * keeps every frame of one shape (monomorphic access on the hot path).
 */
import { wireFormatAt, wireFormatCount, type WireFormat } from './wire-format.js';

export type FrameKind = 'video' | 'audio' | 'script';

/** Codec names use the spellings of SRS's API (`H264`, `HEVC`, `AAC`, ...). */
export type VideoCodec = 'H264' | 'HEVC' | 'AV1' | 'VP8' | 'VP9' | 'VP6' | 'Other';
export type AudioCodec = 'AAC' | 'MP3' | 'Opus' | 'Other';
export type FrameCodec = VideoCodec | AudioCodec | 'AMF0';

export class MediaFrame {
  /** Decoding timestamp in ms (after the source's jitter correction). */
  dts: number;
  /** Presentation timestamp in ms (dts + composition offset). */
  pts: number;
  /**
   * The payload when it is not the tail of `flvBody` (frames from TS,
   * WebRTC); null when it is (frames from RTMP and FLV: the tag body's header,
   * then the payload), and then only where it starts in `flvBody` is kept: the
   * GOP cache holds tens of frames per stream, and a second Buffer object per
   * frame was ~90 bytes of V8 heap each (issue 17 item 4).
   */
  private ownPayload: Buffer | null;
  private payloadStart = 0;
  private body: Buffer | null;

  /** Serialized-once forms by WireFormat id; null until one is filled. */
  private wires: unknown[] | null = null;

  constructor(
    readonly kind: FrameKind,
    readonly codec: FrameCodec,
    dts: number,
    pts: number,
    /** A video frame that starts a GOP (IDR / random access point). */
    readonly keyframe: boolean,
    /** A sequence header (decoder configuration), not media. */
    readonly header: boolean,
    payload: Buffer,
    flvBody: Buffer | null,
  ) {
    this.dts = dts;
    this.pts = pts;
    this.body = flvBody;
    this.ownPayload = payload;
    this.setPayload(payload);
  }

  /**
   * The codec's own form: H.264/H.265 as 4-byte length-prefixed NAL units,
   * AAC as a raw frame, AV1 as OBUs; for headers, the decoder configuration
   * record / AudioSpecificConfig; for script data, the AMF0 bytes.
   * A view of `flvBody` is made afresh on each read (callers read it once or twice), or is `flvBody` itself.
   */
  get payload(): Buffer {
    if (this.ownPayload !== null) return this.ownPayload;
    const body = this.body as Buffer;
    return this.payloadStart === 0 ? body : body.subarray(this.payloadStart);
  }

  set payload(b: Buffer) {
    this.setPayload(b);
  }

  /** `payload.length` without making a view. */
  get payloadLength(): number {
    return this.ownPayload !== null ? this.ownPayload.length : (this.body as Buffer).length - this.payloadStart;
  }

  /**
   * The FLV tag body (= RTMP message payload) of this frame, when known.
   * Frames that come from RTMP or FLV keep their original bytes here, so that
   * RTMP and FLV egress pass them through without re-encoding.
   */
  get flvBody(): Buffer | null {
    return this.body;
  }

  set flvBody(b: Buffer | null) {
    // A payload that was a view of the old body keeps its bytes.
    if (this.ownPayload === null) this.ownPayload = this.payload;
    this.body = b;
    if (b !== null) this.setPayload(this.ownPayload);
  }

  /** Keeps where `b` starts in the body when it is the body's tail, else `b` itself. */
  private setPayload(b: Buffer): void {
    const body = this.body;
    if (body !== null && b.buffer === body.buffer && b.byteOffset >= body.byteOffset && b.byteOffset + b.length === body.byteOffset + body.length) {
      this.ownPayload = null;
      this.payloadStart = b.byteOffset - body.byteOffset;
    } else {
      this.ownPayload = b;
    }
  }

  /** The frame in this form, if an egress (or the ingest) filled it. */
  wire<T>(format: WireFormat<T>): T | undefined {
    const w = this.wires;
    return w !== null && format.id < w.length ? (w[format.id] as T | undefined) : undefined;
  }

  /** Stores the frame in this form (for every later player of it) and returns it. */
  setWire<T>(format: WireFormat<T>, value: T): T {
    let w = this.wires;
    if (w === null || format.id >= w.length) {
      const grown: unknown[] = new Array(wireFormatCount()).fill(undefined);
      if (w !== null) for (let i = 0; i < w.length; i++) grown[i] = w[i];
      this.wires = w = grown;
    }
    w[format.id] = value;
    return value;
  }

  /**
   * Copies the bytes out of the larger buffer they were sliced from (a
   * network read of up to 64 KB) and drops the serialized forms, so that a
   * frame kept for long — metadata, sequence headers of a stream that may sit
   * idle — pins only its own bytes. A no-op for bytes that own their buffer.
   */
  detach(): void {
    const body = this.body;
    this.wires = null;
    if (body !== null && this.ownPayload === null) {
      // The payload is the body's tail: moving the body moves it.
      if (sharesBuffer(body)) this.body = ownCopy(body);
      return;
    }
    const payload = this.ownPayload as Buffer;
    if (body !== null && sharesBuffer(body)) this.body = ownCopy(body);
    if (sharesBuffer(payload)) this.ownPayload = ownCopy(payload);
  }

  /** Moves the frame on the timeline; drops serialized forms that held the old time. */
  retime(dts: number): void {
    if (dts === this.dts) return;
    this.pts += dts - this.dts;
    this.dts = dts;
    const w = this.wires;
    if (w !== null) for (let i = 0; i < w.length; i++) if (w[i] !== undefined && !wireFormatAt(i)!.keepOnRetime) w[i] = undefined;
  }
}

function sharesBuffer(b: Buffer): boolean {
  return b.buffer.byteLength > b.length;
}

/** Outside Buffer's shared 8 KB pool, which a small copy would pin instead. */
function ownCopy(b: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length);
  b.copy(out);
  return out;
}
