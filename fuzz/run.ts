// npm run fuzz -- [--runs N] [--only NAME[,NAME]] [--seed S] [--hang-seconds H]
// Runs every target (default 1,000,000 inputs each) and prints counts and time.
// Each target runs on a worker thread under a watchdog: an input that does not
// return within --hang-seconds (default 10) is a hang, saved under fuzz-findings/.
// Exit code 1 when any target found a crash, hang or unbounded allocation.
import { parseArgs } from 'node:util';
import { TARGETS } from './targets/index.js';
import { runWatched } from './watchdog.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000000' },
    only: { type: 'string' },
    seed: { type: 'string' },
    'hang-seconds': { type: 'string', default: '10' },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not ${values.runs}`);
const hangSeconds = Number(values['hang-seconds']);
if (!(hangSeconds > 0)) throw new Error(`--hang-seconds must be a positive number, not ${values['hang-seconds']}`);
const only = values.only?.split(',');
const chosen = only ? TARGETS.filter((t) => only.includes(t.name)) : TARGETS;
if (chosen.length === 0) throw new Error(`--only matched no target; targets: ${TARGETS.map((t) => t.name).join(', ')}`);

let failed = 0;
let total = 0;
const t0 = performance.now();
for (const t of chosen) {
  const seed = values.seed === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(values.seed);
  const s = await runWatched({
    targetModule: new URL('./targets/index.js', import.meta.url).href,
    targetName: t.name,
    runs,
    seed,
    hangMs: hangSeconds * 1000,
    findingsDir: 'fuzz-findings',
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
