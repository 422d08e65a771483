/**
 * A serialized form of frames (an FLV tag, RTMP chunks, a TS PES, RTP
 * packets, ...), registered once by the egress module that makes it. Its id
 * indexes a small slots array on each MediaFrame, so that a frame's bytes of
 * that form are built once and shared by every player of it, and adding an
 * egress adds a WireFormat, not a MediaFrame field.
 */

const formats: WireFormat<unknown>[] = [];

export interface WireFormatOptions {
  /**
   * Whether the form survives `MediaFrame.retime`: false (the default) for
   * bytes that hold the frame's timestamp; true for forms with a clock of
   * their own (a WebRTC publisher's RTP packets).
   */
  keepOnRetime?: boolean;
}

export class WireFormat<T> {
  /** The slot index on every frame. */
  readonly id: number;
  readonly keepOnRetime: boolean;
  /** Only a type witness: WireFormat<A> and WireFormat<B> are not interchangeable. */
  declare readonly _value?: T;

  /** Registers a form; call once per module (each call takes a slot on every frame that uses it). */
  constructor(
    readonly name: string,
    opts: WireFormatOptions = {},
  ) {
    this.id = formats.length;
    this.keepOnRetime = opts.keepOnRetime ?? false;
    formats.push(this);
  }
}

/** How many forms are registered (the length of a frame's slots array). */
export function wireFormatCount(): number {
  return formats.length;
}

/** The registered form with this slot index. */
export function wireFormatAt(id: number): WireFormat<unknown> | undefined {
  return formats[id];
}
