// Renders the directive reference of docs/CONFIG.md from the schema, so the doc
// cannot drift from what Sluice accepts, its defaults and what it acts on.
// `node scripts/config-docs.mjs` writes it; a unit test fails when the file is stale.

import { ROOT } from './schema.js';
import type { BlockEntry, Children, Entry, Use } from './schema-types.js';

export const REFERENCE_BEGIN =
  '<!-- config-reference: generated from src/config/schema.ts by `node scripts/config-docs.mjs`; do not edit by hand -->';
export const REFERENCE_END = '<!-- /config-reference -->';

const USE: Readonly<Record<Use, string>> = {
  used: 'used',
  'not-yet': 'parsed, not yet used',
  ignored: 'ignored',
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function defaultText(e: Entry): string {
  if (e.defaultDoc !== undefined) return e.defaultDoc;
  const unit = e.unit === undefined ? '' : ` ${e.unit}`;
  switch (e.kind) {
    case 'bool':
      return e.def ? 'on' : 'off';
    case 'int':
    case 'float':
    case 'endpoint':
      return `${e.def}${unit}`;
    case 'str':
      return e.def === '' ? '""' : `\`${e.def}\``;
    case 'list':
      return e.def.length === 0 ? 'none' : e.def.map((v) => `\`${v}\``).join(' ');
    default:
      return '—';
  }
}

function useText(e: Entry): string {
  const parts = [e.sluice === true ? `**Sluice extension**, ${USE[e.use]}` : USE[e.use]];
  const more = [e.doc, e.env === false && e.kind !== 'block' && e.aliases === undefined ? 'no env override' : ''].filter((s) => s !== '');
  return more.length === 0 ? parts[0] : `${parts[0]}: ${more.join('; ')}`;
}

function reloadText(e: Entry): string {
  return e.reload === 'live' ? 'live' : e.reload === 'restart' ? 'restart' : '—';
}

function table(children: Children, withReload: boolean): string[] {
  const rows = Object.entries(children).filter(([, e]) => e.kind !== 'block');
  if (rows.length === 0) return [];
  const head = withReload ? ['| Directive | Default | Sluice | Reload |', '|---|---|---|---|'] : ['| Directive | Default | Sluice |', '|---|---|---|'];
  return [
    ...head,
    ...rows.map(([name, e]) => {
      const cols = [`\`${name}\``, cell(defaultText(e)), cell(useText(e))];
      if (withReload) cols.push(reloadText(e));
      return `| ${cols.join(' | ')} |`;
    }),
    '',
  ];
}

function blockNote(e: BlockEntry, topLevel: boolean): string {
  const notes = [USE[e.use]];
  if (e.sluice === true) notes.unshift('Sluice extension');
  if (e.env === false) notes.push('no env overrides');
  if (topLevel && e.reload !== undefined) notes.push(e.reload === 'live' ? 'reload: live' : 'reload: needs a restart');
  return `*${notes.join(' · ')}*`;
}

function block(e: BlockEntry, path: readonly string[], seen: Map<BlockEntry, string>): string[] {
  const name = path.join('.');
  // The argument goes in code so that `<name>` is not read as an HTML tag.
  const out = [`${path.length === 1 ? '##' : '###'} ${name}${e.arg === undefined ? '' : ` \`${e.arg}\``}`, ''];
  const first = seen.get(e);
  if (first !== undefined) return [...out, `Same directives as \`${first}\`.`, ''];
  seen.set(e, name);
  out.push(blockNote(e, path.length === 1), '');
  if (e.doc !== '') out.push(e.doc, '');
  out.push(...table(e.children, false));
  for (const [child, c] of Object.entries(e.children)) {
    if (c.kind === 'block') out.push(...block(c, [...path, child], seen));
  }
  return out;
}

/** The reference, markers included. */
export function renderConfigReference(): string {
  const seen = new Map<BlockEntry, string>();
  const lines = [
    REFERENCE_BEGIN,
    '',
    'Column "Sluice": **used** = the server acts on it today; **parsed, not yet used** = accepted and typed',
    '(with its default) for a later feature; **ignored** = accepted for SRS compatibility only.',
    'Column "Reload" (root directives; each block says its own): **live** = a reload applies the change,',
    '**restart** = a reload reports that the change needs a restart. Vhost sections always reload live.',
    '',
    '## Root directives',
    '',
    ...table(ROOT.children, true),
  ];
  for (const [name, e] of Object.entries(ROOT.children)) {
    if (e.kind === 'block') lines.push(...block(e, [name], seen));
  }
  lines.push(REFERENCE_END);
  return `${lines.join('\n')}\n`;
}

/** `doc` with its reference region replaced by `reference`; throws when the markers are missing. */
export function spliceConfigReference(doc: string, reference: string): string {
  const begin = doc.indexOf(REFERENCE_BEGIN);
  const end = doc.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) throw new Error('docs/CONFIG.md has no config-reference markers');
  const after = doc.slice(end + REFERENCE_END.length).replace(/^\n/, '');
  return `${doc.slice(0, begin)}${reference}${after}`;
}
