#!/usr/bin/env node
// Writes the directive reference of docs/CONFIG.md from the config schema
// (src/config/schema.ts), between its config-reference markers. Needs a build
// (`npx tsc -p .`). `--check`: change nothing, exit 1 when the file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = join(ROOT, 'docs', 'CONFIG.md');
const { renderConfigReference, spliceConfigReference } = await import(join(ROOT, 'dist/src/config/config-reference.js'));

const before = readFileSync(DOC, 'utf8');
const after = spliceConfigReference(before, renderConfigReference());
if (process.argv.includes('--check')) {
  if (after !== before) {
    console.error('docs/CONFIG.md is stale: run `npx tsc -p . && node scripts/config-docs.mjs`');
    process.exit(1);
  }
  console.log('docs/CONFIG.md matches the config schema');
} else if (after !== before) {
  writeFileSync(DOC, after);
  console.log('docs/CONFIG.md: reference regenerated');
} else {
  console.log('docs/CONFIG.md: already up to date');
}
