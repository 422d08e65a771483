// The fuzz watchdog: a parser call that never returns is reported as a hang,
// with its input saved, instead of freezing `npm run fuzz`; a target that
// returns is run to the end on its worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWatched } from '../../fuzz/watchdog.js';

test('an input that never returns is a hang; the worker is stopped and the input saved', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-hang-'));
  try {
    const s = await runWatched({
      targetModule: new URL('../helpers/hanging-fuzz-target.js', import.meta.url).href,
      targetName: 'hangs-at-100',
      runs: 1000,
      seed: 7,
      hangMs: 5000,
      findingsDir: dir,
    });
    assert.match(s.failure ?? '', /^hang: input 100 did not return in 5 s; saved to /);
    assert.equal(s.runs, 99);
    assert.equal(readdirSync(dir).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a parser that returns runs to the end on its worker', async () => {
  const s = await runWatched({
    targetModule: new URL('../../fuzz/targets/index.js', import.meta.url).href,
    targetName: 'amf0-amf3',
    runs: 500,
    seed: 3,
    hangMs: 120_000,
    findingsDir: join(tmpdir(), 'never-written'),
  });
  assert.equal(s.failure, null);
  assert.equal(s.runs, 500);
  assert.equal(s.accepted + s.refused, 500);
});
