/**
 * One FFmpeg child process used as a filter: bytes in on stdin, bytes out on
 * stdout. Bounded: input is dropped (and counted) while the process's stdin
 * is full, so a stuck encoder never grows our memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface FfmpegPipeOptions {
  args: string[];
  ffmpegPath?: string;
  onData(chunk: Buffer): void;
  onExit(code: number | null, stderrTail: string): void;
  /** Input bytes queued in the pipe at most before dropping input. */
  maxQueuedBytes?: number;
}

export class FfmpegPipe {
  private readonly proc: ChildProcess;
  private stderrTail = '';
  private closed = false;
  private queued = 0;
  droppedBytes = 0;

  constructor(private readonly o: FfmpegPipeOptions) {
    this.proc = spawn(o.ffmpegPath ?? 'ffmpeg', o.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => {
      if (!this.closed) o.onData(d);
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    this.proc.stdin!.on('error', () => undefined);
    this.proc.stdin!.on('drain', () => {
      this.queued = 0;
    });
    this.proc.on('error', (err) => {
      this.stderrTail += `\n${err.message}`;
    });
    this.proc.on('exit', (code) => {
      const wasClosed = this.closed;
      this.closed = true;
      if (!wasClosed) o.onExit(code, this.stderrTail);
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  write(b: Buffer): void {
    if (this.closed) return;
    if (this.queued > (this.o.maxQueuedBytes ?? 1 << 20)) {
      this.droppedBytes += b.length;
      return;
    }
    if (!this.proc.stdin!.write(b)) this.queued += b.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.proc.stdin!.destroy();
    this.proc.kill('SIGKILL');
  }
}
