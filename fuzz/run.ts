// npm run fuzz -- [--runs N] [--only NAME[,NAME]] [--seed S]
// Runs every target (default 1,000,000 inputs each) and prints counts and time.
// Exit code 1 when any target found a crash, hang or unbounded allocation.
import { parseArgs } from 'node:util';
import { fuzzTarget } from './harness.js';
import { TARGETS } from './targets/index.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '1000000' }, only: { type: 'string' }, seed: { type: 'string' } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not ${values.runs}`);
const only = values.only?.split(',');
const chosen = only ? TARGETS.filter((t) => only.includes(t.name)) : TARGETS;
if (chosen.length === 0) throw new Error(`--only matched no target; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
const seed = values.seed === undefined ? undefined : Number(values.seed);

let failed = 0;
let total = 0;
const t0 = performance.now();
for (const t of chosen) {
  const s = fuzzTarget(t, {
    runs,
    seed,
    onProgress: (n) => process.stderr.write(`  ${t.name}: ${n.toLocaleString('en-US')}\n`),
  });
  total += s.runs;
  const line =
    `${s.name.padEnd(24)} ${s.runs.toLocaleString('en-US').padStart(11)} inputs  ` +
    `accepted ${s.accepted}  refused ${s.refused}  ${(s.ms / 1000).toFixed(1)} s  ` +
    `slowest ${s.maxCallMs.toFixed(1)} ms  most memory ${(s.maxAllocBytes / 1024).toFixed(0)} KiB  seed ${s.seed}`;
  console.log(s.failure ? `${line}\n  FAILED: ${s.failure}` : line);
  if (s.failure) failed++;
}
console.log(`${chosen.length} targets, ${total.toLocaleString('en-US')} inputs, ${failed} failed, ${((performance.now() - t0) / 1000).toFixed(1)} s, node ${process.version}`);
process.exitCode = failed > 0 ? 1 : 0;
