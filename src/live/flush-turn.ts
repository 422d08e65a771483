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
  private readonly tasks: Array<{ key: object; task: TurnTask }> = [];

  /** This turn's task of kind `key`, made on first use; every task finishes when the turn does. */
  task<T extends TurnTask>(key: object, make: () => T): T {
    for (const t of this.tasks) if (t.key === key) return t.task as T;
    const task = make();
    this.tasks.push({ key, task });
    return task;
  }

  finish(): void {
    const tasks = this.tasks.splice(0);
    for (const t of tasks) t.task.finish();
  }
}
