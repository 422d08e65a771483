// One fuzz target on a worker thread, watched by fuzz/watchdog.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { fuzzTarget, type FuzzTarget } from './harness.js';
import { publishInput, type WorkerData, type WorkerMessage } from './watchdog.js';

const data = workerData as WorkerData;
const mod = (await import(data.targetModule)) as { TARGETS: readonly FuzzTarget[] };
const target = mod.TARGETS.find((t) => t.name === data.targetName);
if (!target) throw new Error(`${data.targetModule} lists no fuzz target ${data.targetName}`);
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);
post({ kind: 'ready' });
const stats = fuzzTarget(target, {
  runs: data.runs,
  seed: data.seed,
  onInput: (bytes, splits) => publishInput(data.slot, bytes, splits),
  onProgress: (done) => post({ kind: 'progress', done }),
});
post({ kind: 'done', stats });
