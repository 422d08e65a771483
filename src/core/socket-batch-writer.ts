/**
 * Writes a batch of shared buffers to a socket as one corked write (one
 * writev), and reports backpressure. Used by every stream egress so that the
 * batching policy lives in one place.
 */
import type { Writable } from 'node:stream';

export function writeBatch(out: Writable, chunks: Buffer[]): boolean {
  if (chunks.length === 1) return out.write(chunks[0]!);
  out.cork();
  let ok = true;
  for (const c of chunks) ok = out.write(c);
  out.uncork();
  return ok && !out.writableNeedDrain;
}
