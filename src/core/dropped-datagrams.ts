/**
 * Counting the datagrams a UDP server drops (garbage, strays, limits) by
 * reason, with at most one log line per interval: a flood of bad input must
 * not flood the log, yet the operator sees what arrives and why it is lost.
 */
import type { Logger } from '../log/logger.js';
import { clip } from '../log/clip.js';

/** Reasons kept between two log lines. */
const MAX_REASONS = 32;

export class DroppedDatagrams {
  count = 0;
  private readonly byReason = new Map<string, number>();
  private lastLog = 0;

  constructor(
    private readonly log: Logger,
    /** The log line's message, e.g. 'SRT: datagrams dropped'. */
    private readonly msg: string,
    private readonly intervalMs = 10_000,
  ) {}

  note(reason: string, peer: string): void {
    this.count++;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (this.byReason.size > MAX_REASONS) this.byReason.delete(this.byReason.keys().next().value!);
    const now = Date.now();
    if (now - this.lastLog < this.intervalMs) return;
    this.lastLog = now;
    this.log.warn({ peer, reason: clip(reason, 120), counts: Object.fromEntries(this.byReason) }, this.msg);
    this.byReason.clear();
  }
}
