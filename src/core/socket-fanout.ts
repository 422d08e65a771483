/**
 * A turn's writes to plain TCP players, written together: the players handed
 * the same buffers (all of them, normally: the same frames, one chunk size)
 * get them with one native call that makes one send per player.
 */
import type { Socket } from 'node:net';
import type { FlushTurn, TurnTask } from '../live/flush-turn.js';
import type { TcpWriterBinding } from './tcp-writer-addon.js';

/** A player's writer (socket-writer.ts) as the fan-out sees it. */
export interface FanoutMember {
  readonly fd: number;
  readonly socket: Socket;
  /** The buffers handed to a turn that has not finished yet. */
  pending: Buffer[] | null;
  /** Counts what the native call sent (≤ 0: nothing) and hands the rest to Node. */
  settle(chunks: Buffer[], sent: number): boolean;
}

class SocketFanout implements TurnTask {
  private writers: FanoutMember[] = [];
  private spare: FanoutMember[] = [];
  private fds = new Int32Array(256);
  private written = new Int32Array(256);
  private group: FanoutMember[] = [];

  constructor(private readonly native: TcpWriterBinding) {}

  add(writer: FanoutMember, chunks: Buffer[]): void {
    // A second batch for one socket in a turn: the first goes out before it.
    if (writer.pending !== null) this.finish();
    writer.pending = chunks;
    this.writers.push(writer);
  }

  finish(): void {
    // Partitioned in place, the arrays kept for the next turn: one group (the usual case) allocates nothing.
    const left = this.writers;
    this.writers = this.spare;
    let n = left.length;
    while (n > 0) {
      const chunks = left[0]!.pending!;
      const group = this.group;
      group.length = 0;
      let k = 0;
      for (let i = 0; i < n; i++) {
        const w = left[i]!;
        if (w.pending === chunks || sameBuffers(w.pending!, chunks)) group.push(w);
        else left[k++] = w;
      }
      this.send(group, chunks);
      n = k;
    }
    left.length = 0;
    this.group.length = 0; // a closed player is not held until the next turn
    this.spare = left;
  }

  private send(group: FanoutMember[], chunks: Buffer[]): void {
    const n = group.length;
    if (this.fds.length < n) {
      this.fds = new Int32Array(n * 2);
      this.written = new Int32Array(n * 2);
    }
    // A socket destroyed since it joined (its fd closed) is skipped: -1 fails with EBADF, never reaching another socket.
    for (let i = 0; i < n; i++) this.fds[i] = group[i]!.socket.destroyed ? -1 : group[i]!.fd;
    this.native.fanout(this.fds, n, chunks, this.written);
    for (let i = 0; i < n; i++) {
      const w = group[i]!;
      w.pending = null;
      if (this.fds[i] !== -1) w.settle(chunks, this.written[i]!);
    }
  }
}

function sameBuffers(a: Buffer[], b: Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const FANOUT = {};

/** Leaves `chunks` for `writer` to the end of `turn`. */
export function joinFanout(turn: FlushTurn, native: TcpWriterBinding, writer: FanoutMember, chunks: Buffer[]): void {
  turn.task(FANOUT, () => new SocketFanout(native)).add(writer, chunks);
}
