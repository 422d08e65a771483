/**
 * `npm start` compiles only when a source is newer than the build
 * (scripts/build-if-stale.mjs, also run by `prepare` after `npm install`), so
 * a start after an install takes about a second. Checked on a small project
 * of its own, never by rebuilding this one while tests run from its dist/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, statSync, utimesSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/server-process.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'build-if-stale.mjs');

function runScript(root: string): Promise<{ code: number | null; err: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [SCRIPT, root], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, err, ms: Date.now() - t0 });
    });
  });
}

test('build-if-stale: builds when there is no build or a source is newer, else returns at once', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-stale-'));
  try {
    mkdirSync(join(root, 'src', 'main'), { recursive: true });
    const source = join(root, 'src', 'main', 'cli.ts');
    writeFileSync(source, 'export const answer: number = 42;\n');
    writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { outDir: 'dist', rootDir: '.', module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true }, include: ['src/**/*.ts'] }));
    const entry = join(root, 'dist', 'src', 'main', 'cli.js');

    const first = await runScript(root);
    assert.equal(first.code, 0, first.err);
    assert.match(first.err, /no build yet; compiling/);
    assert.match(readFileSync(entry, 'utf8'), /answer = 42/);

    const builtAt = statSync(entry).mtimeMs;
    const fresh = await runScript(root);
    assert.equal(fresh.code, 0, fresh.err);
    assert.equal(fresh.err, '', 'nothing to say when the build is fresh');
    assert.equal(statSync(entry).mtimeMs, builtAt, 'a fresh build is not compiled again');
    assert.ok(fresh.ms < 10_000, `the fresh check took ${fresh.ms} ms`);

    writeFileSync(source, 'export const answer: number = 43;\n');
    const later = new Date(builtAt + 5000);
    utimesSync(source, later, later);
    const stale = await runScript(root);
    assert.equal(stale.code, 0, stale.err);
    assert.match(stale.err, /sources changed since the last build; compiling/);
    assert.match(readFileSync(entry, 'utf8'), /answer = 43/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('npm start and npm install run the staleness check, and the README keeps its two commands', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['prestart'], 'node scripts/build-if-stale.mjs');
  assert.equal(pkg.scripts['prepare'], 'node scripts/build-if-stale.mjs', 'npm install builds once');
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes('npm install && npm start\n'));
  assert.ok(readme.includes('npm install && npm test\n'));
});
