/**
 * The one way the server runs a child process (exec, ingest, transcode and
 * the AAC⇄Opus pipes of WebRTC): spawned from an argv (never through a shell), in a
 * process group of its own so that a stop reaches whatever it forked, stdout
 * and stderr appended to a log file (the child writes it directly, no bytes
 * pass through our event loop), restarted with exponential backoff when it
 * exits by itself, stopped with SIGTERM and then SIGKILL after a grace
 * period. Node reaps every child before its 'exit' event, so none is left a
 * zombie; a last 'exit' hook of the server kills any group still alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.js';
import { clip } from '../log/clip.js';

export type ProcessState = 'starting' | 'running' | 'backoff' | 'stopped';

export interface RestartPolicy {
  /** The first wait after an exit (ms); doubled at every exit in a row. */
  initialMs: number;
  /** The cap of the wait (ms). */
  maxMs: number;
  /** A run at least this long (ms) counts as healthy: the next wait starts again at initialMs. */
  stableMs: number;
  /** An exit with code 0 counts as healthy too (a file ingest that played to its end loops at once). */
  cleanExitIsHealthy?: boolean;
}

export interface SupervisedOptions {
  /** What runs it: `exec`, `ingest`, `transcode`, `aac-to-opus`, `opus-to-aac`. */
  kind: string;
  /** Who it is for, e.g. the stream URL. */
  label: string;
  argv: readonly string[];
  /** Where stdout and stderr are appended; null discards them. */
  logFile: string | null;
  /** null: an exit is final (state `stopped`). */
  restart: RestartPolicy | null;
  /** SIGTERM, then SIGKILL after this long (ms). Default 3000. */
  killGraceMs?: number;
  /** stdin and stdout are pipes its owner writes and reads (a filter); stderr still goes to the log file. */
  pipes?: boolean;
  /** Each run, right after spawn: where the owner wires the pipes. */
  onSpawn?(child: ChildProcess): void;
  /** Each run's end (before any restart), also for a spawn failure (code null, error set). */
  onExit?(code: number | null, signal: NodeJS.Signals | null, error?: string): void;
  log: Logger;
}

/** What the API shows of one child (SRS-style snake_case). */
export interface ProcessInfo {
  id: string;
  kind: string;
  label: string;
  command: string;
  pid: number | null;
  state: ProcessState;
  restarts: number;
  /** Seconds the current run has been up (0 when not running). */
  uptime: number;
  log_file: string | null;
}

const DEFAULT_KILL_GRACE_MS = 3000;

/** Process groups alive now; killed at the server's exit whatever the path to it. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
  });
}

/** Signals the child's whole process group (it leads one: spawned detached). */
function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is gone already.
  }
}

let nextId = 1;

export class SupervisedProcess {
  readonly id = `p${nextId++}`;
  state: ProcessState = 'starting';
  restarts = 0;
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private running = false;
  private backoffMs: number;
  private timer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private resolveStopped: (() => void) | null = null;
  private readonly log: Logger;

  constructor(readonly o: SupervisedOptions) {
    this.backoffMs = o.restart?.initialMs ?? 0;
    this.log = o.log.child({ proc: this.id, kind: o.kind });
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Starts the first run (once). */
  start(): void {
    if (this.child || this.stopping) return;
    this.spawnChild();
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the child is reaped. Idempotent. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const child = this.child;
    if (!child || child.pid === undefined) {
      this.state = 'stopped';
      this.stopping = Promise.resolve();
      return this.stopping;
    }
    this.stopping = new Promise<void>((resolve) => {
      this.resolveStopped = resolve;
    });
    const pid = child.pid;
    signalGroup(pid, 'SIGTERM');
    const killer = setTimeout(() => {
      this.log.warn({ pid, graceMs: this.grace() }, 'child ignored SIGTERM: SIGKILL');
      signalGroup(pid, 'SIGKILL');
    }, this.grace());
    void this.stopping.then(() => clearTimeout(killer));
    return this.stopping;
  }

  info(now = Date.now()): ProcessInfo {
    return {
      id: this.id,
      kind: this.o.kind,
      label: this.o.label,
      command: clip(this.o.argv.join(' '), 1000),
      pid: this.pid,
      state: this.state,
      restarts: this.restarts,
      uptime: this.running ? Math.floor((now - this.startedAt) / 1000) : 0,
      log_file: this.o.logFile,
    };
  }

  private grace(): number {
    return this.o.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  private spawnChild(): void {
    this.state = 'starting';
    this.running = false;
    const [cmd, ...args] = this.o.argv;
    const out = this.openLog();
    let child: ChildProcess;
    try {
      if (cmd === undefined) throw new Error('empty command');
      // detached: a process group of its own, so a stop reaches what it forks (a shell's children).
      const io = out ?? 'ignore';
      child = spawn(cmd, args, { stdio: this.o.pipes ? ['pipe', 'pipe', io] : ['ignore', io, io], detached: true });
    } catch (err) {
      // Bad arguments (e.g. a NUL byte): a retry cannot help.
      this.log.error({ err: clip((err as Error).message) }, 'child process not started');
      this.state = 'stopped';
      return;
    } finally {
      if (out !== null) closeSync(out);
    }
    this.child = child;
    this.startedAt = Date.now();
    installExitHook();
    this.o.onSpawn?.(child);
    if (child.pid !== undefined) liveGroups.add(child.pid);
    let ended = false;
    const end = (code: number | null, signal: NodeJS.Signals | null, error?: string): void => {
      if (ended) return;
      ended = true;
      this.onChildEnd(child, code, signal, error);
    };
    child.once('spawn', () => {
      if (this.child !== child) return;
      this.running = true;
      if (this.state === 'starting') this.state = 'running';
      this.log.info({ pid: child.pid, label: this.o.label, command: clip(this.o.argv.join(' ')), logFile: this.o.logFile }, 'child process started');
    });
    child.once('exit', (code, signal) => end(code, signal));
    // A spawn failure (ENOENT, EACCES) gives 'error' and no 'exit'.
    child.once('error', (err) => {
      if (child.pid === undefined) end(null, null, err.message);
    });
  }

  private openLog(): number | null {
    const file = this.o.logFile;
    if (file === null) return null;
    try {
      mkdirSync(dirname(file), { recursive: true });
      const fd = openSync(file, 'a');
      writeSync(fd, `[${new Date().toISOString()}] ${this.o.kind} ${this.o.label}: ${this.o.argv.join(' ')}\n`);
      return fd;
    } catch (err) {
      this.log.warn({ logFile: file, err: clip((err as Error).message) }, 'child log file not writable: output discarded');
      return null;
    }
  }

  private onChildEnd(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (child.pid !== undefined) {
      liveGroups.delete(child.pid);
      // What it forked and left behind goes with it (same group).
      signalGroup(child.pid, 'SIGKILL');
    }
    if (this.child !== child) return;
    this.child = null;
    const ranMs = this.running ? Date.now() - this.startedAt : 0;
    this.running = false;
    this.o.onExit?.(code, signal, error);
    if (this.stopping) {
      this.state = 'stopped';
      this.log.info({ pid: child.pid, code, signal }, 'child process stopped');
      this.resolveStopped?.();
      return;
    }
    const restart = this.o.restart;
    const fields = { pid: child.pid, code, signal, ranMs, err: error === undefined ? undefined : clip(error), logFile: this.o.logFile };
    if (!restart) {
      this.state = 'stopped';
      this.log.warn(fields, 'child process exited');
      return;
    }
    if (ranMs >= restart.stableMs || (restart.cleanExitIsHealthy && code === 0)) this.backoffMs = restart.initialMs;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(restart.maxMs, this.backoffMs * 2);
    this.state = 'backoff';
    // A missing binary (ENOENT) or one not executable says so in the message, not only in `err`.
    const what = error === undefined ? 'child process exited' : `child process could not start (${clip(this.o.argv[0] ?? '', 200)}: ${/ENOENT/.test(error) ? 'not found' : 'not runnable'})`;
    this.log.warn({ ...fields, restartInMs: wait }, `${what}: restarting after backoff`);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.restarts++;
      this.spawnChild();
    }, wait);
  }
}

/** Every supervised child of the server: what the API lists and what a stop waits for. */
export class ProcessRegistry {
  private readonly procs = new Set<SupervisedProcess>();
  /** Restarts of children already forgotten, so that the exporter's total only grows. */
  private pastRestarts = 0;

  /** Creates, registers and starts one; it leaves the list once stopped by stop(). */
  start(o: SupervisedOptions): SupervisedProcess {
    const p = new SupervisedProcess(o);
    this.procs.add(p);
    p.start();
    return p;
  }

  /** Stops one and forgets it. */
  async stop(p: SupervisedProcess): Promise<void> {
    await p.stop();
    if (this.procs.delete(p)) this.pastRestarts += p.restarts;
  }

  /** Every restart since the server started, of children alive or gone. */
  restartsTotal(): number {
    let n = this.pastRestarts;
    for (const p of this.procs) n += p.restarts;
    return n;
  }

  list(): ProcessInfo[] {
    const now = Date.now();
    return [...this.procs].map((p) => p.info(now));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs].map((p) => this.stop(p)));
  }
}
