#!/usr/bin/env node
// Builds (tsc -p .) only when a source is newer than the last build, so that
// `npm start` starts in about a second instead of compiling every time. Run
// by `prepare` (after `npm install`) and `prestart`. The last build's time is
// the mtime of the server's entry point (tsc writes every output on each
// build, so `npx tsc -p .` by hand counts too).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The project to build: this one, or the folder given (the test builds a small one).
const ROOT = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const ENTRY = join(ROOT, 'dist', 'src', 'main', 'cli.js');
const INPUTS = ['src', 'test', 'bench'].map((d) => join(ROOT, d));
const CONFIG_FILES = [join(ROOT, 'tsconfig.json')];

/** The newest mtime (ms) under `path` among .ts files (and the path itself when a file). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs; // a deleted or renamed file changes its folder's mtime
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) max = Math.max(max, newest(p));
    else if (entry.name.endsWith('.ts')) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

const built = existsSync(ENTRY) ? statSync(ENTRY).mtimeMs : 0;
const sources = Math.max(...INPUTS.map(newest), ...CONFIG_FILES.map(newest));
if (built > 0 && sources <= built) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without devDependencies: run what was built, if anything.
  console.error(existsSync(ENTRY) ? 'build-if-stale: typescript is not installed; using the existing build' : 'build-if-stale: typescript is not installed and there is no build (npm install without --omit=dev)');
  process.exit(existsSync(ENTRY) ? 0 : 1);
}
console.error(built > 0 ? 'build-if-stale: sources changed since the last build; compiling' : 'build-if-stale: no build yet; compiling');
const r = spawnSync(process.execPath, [tsc, '-p', ROOT], { stdio: 'inherit' });
process.exit(r.status ?? 1);
