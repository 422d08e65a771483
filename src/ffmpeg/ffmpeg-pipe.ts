/**
 * One FFmpeg child process used as a filter: bytes in on stdin, bytes out on
 * stdout. It runs on the supervisor like every other child (listed by the
 * API, stderr in its log file under `ff_log_dir`, SIGTERM then SIGKILL,
 * stopped with the server), without restarts: its owner's stream state
 * (timestamps, headers) does not survive a new process, so an exit is
 * reported and the owner decides. Bounded: input is dropped (and counted)
 * while the process's stdin is full, so a stuck encoder never grows our memory.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../log/logger.js';
import type { ProcessRegistry, SupervisedProcess } from './child-supervisor.js';

/** Where a pipe runs: the server's registry and its child log. */
export interface FfmpegPipeHost {
  processes: ProcessRegistry;
  /** Its stderr, appended; null discards it. */
  logFile: string | null;
  log: Logger;
}

export interface FfmpegPipeOptions extends FfmpegPipeHost {
  /** The supervisor's kind (`aac-to-opus`, `opus-to-aac`). */
  kind: string;
  /** Who it is for (the stream URL). */
  label: string;
  args: string[];
  ffmpegPath?: string;
  onData(chunk: Buffer): void;
  onExit(code: number | null, detail: string): void;
  /** Input bytes queued in the pipe at most before dropping input. */
  maxQueuedBytes?: number;
}

/** A filter has nothing to finalize: a short grace, then SIGKILL. */
const PIPE_KILL_GRACE_MS = 1000;

export class FfmpegPipe {
  private readonly proc: SupervisedProcess;
  private child: ChildProcess | null = null;
  private closed = false;
  private queued = 0;
  droppedBytes = 0;

  constructor(private readonly o: FfmpegPipeOptions) {
    this.proc = o.processes.start({
      kind: o.kind,
      label: o.label,
      argv: [o.ffmpegPath ?? 'ffmpeg', ...o.args],
      logFile: o.logFile,
      restart: null,
      killGraceMs: PIPE_KILL_GRACE_MS,
      pipes: true,
      log: o.log,
      onSpawn: (child) => this.wire(child),
      onExit: (code, _signal, error) => {
        const wasClosed = this.closed;
        this.closed = true;
        if (!wasClosed) o.onExit(code, error ?? (o.logFile ? `see ${o.logFile}` : 'ff_log_dir is /dev/null'));
        // Forgotten by the registry once the supervisor has logged the exit (else it stays listed as stopped).
        queueMicrotask(() => void o.processes.stop(this.proc));
      },
    });
  }

  get pid(): number | undefined {
    return this.proc.pid ?? undefined;
  }

  write(b: Buffer): void {
    const stdin = this.child?.stdin;
    if (this.closed || !stdin) return;
    if (this.queued > (this.o.maxQueuedBytes ?? 1 << 20)) {
      this.droppedBytes += b.length;
      return;
    }
    if (!stdin.write(b)) this.queued += b.length;
  }

  /** Ends the process: stdin closed, SIGTERM, SIGKILL after a second; it leaves the registry once reaped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.child?.stdin?.destroy();
    void this.o.processes.stop(this.proc);
  }

  private wire(child: ChildProcess): void {
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => {
      if (!this.closed) this.o.onData(d);
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.on('drain', () => {
      this.queued = 0;
    });
  }
}
