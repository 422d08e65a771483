/**
 * Writes a batch of shared buffers through Node as one corked write (one
 * writev), and reports backpressure. Used by every stream egress so that the
 * batching policy lives in one place; a player's plain TCP socket goes
 * through its SocketWriter, which may send without Node first.
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
