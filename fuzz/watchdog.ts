// A hang watchdog for the fuzzers. The parsers are synchronous, so a call that
// never returns cannot be interrupted on its own thread: each target runs in a
// worker that copies every input into shared memory before the parser sees it,
// and this side terminates a worker whose input counter stops moving, then
// saves the input that hung so that it reproduces.
import { Worker } from 'node:worker_threads';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FuzzStats } from './harness.js';

/** Header words of the shared input slot: sequence number, input length, split count, then up to MAX_SPLITS splits. */
const HEADER_WORDS = 3 + 3;
const MAX_SPLITS = 3;
/** Bytes of an input kept for the report; longer inputs keep their first INPUT_CAP bytes and their true length. */
const INPUT_CAP = 1 << 20;

export interface WatchedRun {
  /** Module (file URL) whose `TARGETS` list holds the target, and the target's name. */
  targetModule: string;
  targetName: string;
  runs: number;
  seed: number;
  /** No input finishing for this long is a hang. */
  hangMs: number;
  /** Where a hanging input is written. */
  findingsDir: string;
  onProgress?: (done: number) => void;
}

export interface WorkerData {
  targetModule: string;
  targetName: string;
  runs: number;
  seed: number;
  slot: SharedArrayBuffer;
}

export type WorkerMessage = { kind: 'ready' } | { kind: 'progress'; done: number } | { kind: 'done'; stats: FuzzStats };

/** Writes one input into the slot (the worker's side). */
export function publishInput(slot: SharedArrayBuffer, bytes: Buffer, splits: readonly number[]): void {
  const head = new Int32Array(slot, 0, HEADER_WORDS);
  const body = new Uint8Array(slot, HEADER_WORDS * 4);
  const n = Math.min(bytes.length, INPUT_CAP);
  body.set(bytes.subarray(0, n));
  head[1] = bytes.length;
  const k = Math.min(splits.length, MAX_SPLITS);
  head[2] = k;
  for (let i = 0; i < k; i++) head[3 + i] = splits[i]! | 0;
  Atomics.add(head, 0, 1);
}

function savedInput(slot: SharedArrayBuffer): { bytes: Buffer; length: number; splits: number[] } {
  const head = new Int32Array(slot, 0, HEADER_WORDS);
  const length = head[1]!;
  const bytes = Buffer.from(new Uint8Array(slot, HEADER_WORDS * 4, Math.min(length, INPUT_CAP)));
  const splits = Array.from({ length: head[2]! }, (_, i) => head[3 + i]!);
  return { bytes, length, splits };
}

/** Runs one target in a worker; a hang comes back as a failed FuzzStats naming the saved input. */
export function runWatched(opts: WatchedRun): Promise<FuzzStats> {
  const slot = new SharedArrayBuffer(HEADER_WORDS * 4 + INPUT_CAP);
  const data: WorkerData = { targetModule: opts.targetModule, targetName: opts.targetName, runs: opts.runs, seed: opts.seed, slot };
  const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData: data });
  const head = new Int32Array(slot, 0, HEADER_WORDS);
  const t0 = performance.now();
  return new Promise<FuzzStats>((resolve, reject) => {
    let lastSeq = -1;
    let lastMove = performance.now();
    // The clock starts once the worker has loaded its target: loading is not the parser's time.
    let ready = false;
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      f();
    };
    const timer = setInterval(
      () => {
        const seq = Atomics.load(head, 0);
        const now = performance.now();
        if (!ready || seq !== lastSeq) {
          lastSeq = seq;
          lastMove = now;
          return;
        }
        if (now - lastMove < opts.hangMs) return;
        const input = savedInput(slot);
        mkdirSync(opts.findingsDir, { recursive: true });
        const file = join(opts.findingsDir, `hang-${opts.targetName}-${opts.seed}-${seq}.bin`);
        writeFileSync(file, input.bytes);
        void worker.terminate();
        finish(() =>
          resolve({
            name: opts.targetName,
            runs: seq - 1,
            accepted: 0,
            refused: 0,
            ms: now - t0,
            maxCallMs: now - lastMove,
            maxAllocBytes: 0,
            seed: opts.seed,
            failure:
              `hang: input ${seq} did not return in ${(opts.hangMs / 1000).toFixed(0)} s; ` +
              `saved to ${file} (${input.length} bytes${input.length > input.bytes.length ? `, first ${input.bytes.length} kept` : ''}), splits ${JSON.stringify(input.splits)}`,
          }),
        );
      },
      Math.min(1000, Math.max(50, opts.hangMs / 4)),
    );
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'ready') {
        ready = true;
        lastMove = performance.now();
      } else if (m.kind === 'progress') opts.onProgress?.(m.done);
      else finish(() => resolve(m.stats));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`fuzz worker for ${opts.targetName} exited with code ${code} before reporting`))));
  });
}
