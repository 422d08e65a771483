/**
 * What a recording's container writer is: sans-IO, frames in (timestamps
 * already those of the file, from 0), bytes out, in file order. The file
 * part appends them; `patches` are the few bytes rewritten in place when
 * the file is closed (a duration the header could not know).
 */
import type { MediaFrame } from '../../codec/media-frame.js';

export interface FilePatch {
  offset: number;
  data: Buffer;
}

export interface DvrMuxer {
  /** Bytes to append for this frame (often none: headers and samples may be held back). */
  push(f: MediaFrame): Buffer[];
  /** Bytes still held, for the end of the file. */
  end(): Buffer[];
  /** In-place rewrites once `end()` is written. */
  patches(): FilePatch[];
  /** Tracks left out of the file, with why (one log line each). */
  readonly skipped: string[];
}
