import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  REFERENCE_BEGIN,
  REFERENCE_END,
  renderConfigReference,
  spliceConfigReference,
} from '../../src/config/config-reference.js';
import { ROOT } from '../../src/config/schema.js';
import type { Children } from '../../src/config/schema-types.js';

// dist/test/unit/ → repository root
const ROOT_DIR = fileURLToPath(new URL('../../../', import.meta.url));

describe('docs/CONFIG.md and the config schema', () => {
  test('the committed reference equals the one generated from the schema', () => {
    const doc = readFileSync(join(ROOT_DIR, 'docs', 'CONFIG.md'), 'utf8');
    const reference = renderConfigReference();
    const committed = doc.slice(doc.indexOf(REFERENCE_BEGIN), doc.indexOf(REFERENCE_END) + REFERENCE_END.length + 1);
    assert.equal(committed, reference, 'docs/CONFIG.md is stale: run `npx tsc -p . && node scripts/config-docs.mjs`');
  });

  test('every block of the schema has a heading in the reference', () => {
    const reference = renderConfigReference();
    const missing: string[] = [];
    const walk = (children: Children, path: string[]): void => {
      for (const [name, e] of Object.entries(children)) {
        const full = [...path, name].join('.');
        if (e.kind === 'block') {
          if (!new RegExp(`^#+ ${full.replace(/\./g, '\\.')}\\b`, 'm').test(reference)) missing.push(full);
          walk(e.children, [...path, name]);
        }
      }
    };
    walk(ROOT.children, []);
    assert.deepEqual(missing, []);
  });

  test('splicing replaces only the marked region', () => {
    const doc = `intro\n${REFERENCE_BEGIN}\nold\n${REFERENCE_END}\noutro\n`;
    assert.equal(spliceConfigReference(doc, `${REFERENCE_BEGIN}\nnew\n${REFERENCE_END}\n`), `intro\n${REFERENCE_BEGIN}\nnew\n${REFERENCE_END}\noutro\n`);
    assert.throws(() => spliceConfigReference('no markers', 'x'), /markers/);
  });
});
