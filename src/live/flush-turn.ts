/**
 * The consumers of a source flushed together: one realtime turn, or the
 * merge-write consumers that reached mw_latency on one frame. Sinks may hand
 * their writes to the turn and have them written together when it ends, e.g.
 * the same bytes to every plain TCP player with one native call
 * (core/socket-fanout.ts). Nothing else may write to such a sink's socket
 * before the turn ends: the source runs the flushes and `finish` in one go.
 */
export interface TurnTask {
  finish(): void;
}

export class FlushTurn {
  // Tasks are kept from turn to turn (a source makes a turn per frame): made once per kind, not per frame.
  private readonly kinds: Array<{ key: object; task: TurnTask; due: boolean }> = [];
  private readonly due: Array<{ task: TurnTask; due: boolean }> = [];

  /** The task of kind `key` (made on first use, then kept); every task used in a turn finishes when the turn does. */
  task<T extends TurnTask>(key: object, make: () => T): T {
    let entry = this.kinds.find((k) => k.key === key);
    if (!entry) {
      entry = { key, task: make(), due: false };
      this.kinds.push(entry);
    }
    if (!entry.due) {
      entry.due = true;
      this.due.push(entry);
    }
    return entry.task as T;
  }

  finish(): void {
    // A task used while another finishes is finished in this turn too.
    for (let i = 0; i < this.due.length; i++) {
      const e = this.due[i]!;
      e.due = false;
      e.task.finish();
    }
    this.due.length = 0;
  }
}
