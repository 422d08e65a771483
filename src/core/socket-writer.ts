/**
 * One player's stream writes to its socket. Realtime fan-out (min_latency,
 * mw_latency 0) writes every frame to every player as it arrives: at 1,000
 * players about 68,000 writes a second, where Node's write path (Writable, a
 * WriteWrap, libuv's request and its callback) costs as much user time as
 * the syscall's own work. So when Node has nothing queued on a plain TCP
 * socket, the bytes go with one non-blocking sendmsg on its descriptor (what
 * libuv's first write attempt would do); within a turn (the players a source
 * flushes at once) the players handed the same buffers get them in one
 * native call (socket-fanout.ts). Whatever a socket did not take goes to
 * `socket.write` at once, so order is kept and Node queues, signals drain and
 * reports errors as always. TLS sockets, and every socket when the addon is
 * missing, use Node's path. See docs/DECISIONS.md, "Realtime fan-out: one
 * native call per turn".
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { FlushTurn } from '../live/flush-turn.js';
import { writeBatch } from './socket-batch-writer.js';
import { type FanoutMember, joinFanout } from './socket-fanout.js';
import { MAX_IOV, type TcpWriterBinding, directWrites, tcpWriter } from './tcp-writer-addon.js';

export class SocketWriter implements FanoutMember {
  /** The socket's descriptor for the native writer, -1 when it is not used. */
  readonly fd: number;
  private readonly native: TcpWriterBinding | null;
  /** What the native writer sent (Node's `bytesWritten` does not see it). */
  private directBytes = 0;
  /** Buffers handed to a turn that has not finished yet. */
  pending: Buffer[] | null = null;

  constructor(readonly socket: Socket) {
    const w = tcpWriter();
    // The descriptor is read once (a C++ getter); the socket is never written once destroyed, so a closed fd is never used.
    const fd = 'binding' in w && !(socket instanceof TLSSocket) ? (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd : undefined;
    this.fd = typeof fd === 'number' && fd >= 0 ? fd : -1;
    this.native = this.fd >= 0 && 'binding' in w ? w.binding : null;
  }

  /** Node's count plus the native writer's. */
  get bytesWritten(): number {
    return this.socket.bytesWritten + this.directBytes;
  }

  /** Writes a batch; false when the socket is full (the owner waits for 'drain'). */
  write(chunks: Buffer[], turn?: FlushTurn): boolean {
    const s = this.socket;
    if (this.native === null || chunks.length > MAX_IOV || s.writableLength !== 0 || s.destroyed || s.writableEnded) return writeBatch(s, chunks);
    if (turn !== undefined) {
      joinFanout(turn, this.native, this, chunks);
      return true; // a rest Node has to queue shows at the next write, as writableLength
    }
    return this.settle(chunks, this.native.writev(this.fd, chunks));
  }

  /**
   * After the native writer sent `sent` bytes of `chunks` (≤ 0: none; an error
   * is left for Node's own write to report): counts them and hands the rest to
   * Node. False when Node then wants a drain.
   */
  settle(chunks: Buffer[], sent: number): boolean {
    let skip = sent > 0 ? sent : 0;
    if (skip > 0) {
      directWrites.count++;
      this.directBytes += skip;
    }
    let i = 0;
    while (i < chunks.length && skip >= chunks[i]!.length) skip -= chunks[i++]!.length;
    if (i === chunks.length) return true;
    const rest = i === 0 && skip === 0 ? chunks : [chunks[i]!.subarray(skip), ...chunks.slice(i + 1)];
    return writeBatch(this.socket, rest);
  }
}
