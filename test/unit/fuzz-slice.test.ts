// A short slice of `npm run fuzz` inside `npm test`: every network parser, a
// fixed seed (so a failure reproduces) and 2,000 inputs each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzTarget } from '../../fuzz/harness.js';
import { TARGETS } from '../../fuzz/targets/index.js';

for (const t of TARGETS) {
  test(`fuzz slice: ${t.name}`, () => {
    const s = fuzzTarget(t, { runs: 2000, seed: 11 });
    assert.equal(s.failure, null, s.failure ?? '');
    assert.equal(s.runs, 2000);
  });
}
