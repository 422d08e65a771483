#!/usr/bin/env node
// The house rule, checked: imports in src/ run down the floors only, a room
// never imports a sibling room of its floor, and no import circle exists.
// Floors and rooms are listed here; a file in a folder not listed fails the check,
// so a new room is placed on purpose. Run by `npm test` (and `npm run lint`).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

/** Floor of each room, lowest first. A room may import rooms of lower floors, and itself. */
const FLOORS = [
  ['log', 'version.ts'],
  ['codec', 'config'],
  ['format'],
  ['protocol', 'live'],
  ['core'],
  // kits the wings share: outbound protocol clients, supervised FFmpeg, the segment writer, statistics
  ['clients', 'ffmpeg', 'outputs/segment', 'ops/stats'],
  // the wings: one per protocol server, output and operations part; siblings never import each other
  ['servers/rtmp', 'servers/http-live', 'servers/http-static', 'servers/webrtc', 'servers/srt', 'servers/caster', 'outputs/hls', 'outputs/dash', 'outputs/edge', 'outputs/dvr', 'outputs/exec', 'outputs/forward', 'outputs/transcode', 'inputs/ingest', 'ops/hooks', 'ops/security', 'ops/exporter', 'ops/auth', 'ops/cluster', 'ops/heartbeat', 'proxy'],
  ['api'],
  ['main'],
];

const roomFloor = new Map();
FLOORS.forEach((rooms, floor) => rooms.forEach((r) => roomFloor.set(r, floor)));

function roomOf(file) {
  const rel = relative(SRC, file).split('\\').join('/');
  const parts = rel.split('/');
  for (const depth of [2, 1]) {
    const key = parts.length > depth ? parts.slice(0, depth).join('/') : parts.join('/');
    if (roomFloor.has(key)) return key;
  }
  return null;
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = walk(SRC);
const problems = [];
const edges = new Map();
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;
for (const file of files) {
  const from = roomOf(file);
  if (from === null) {
    problems.push(`${relative(ROOT, file)}: its folder is on no floor (add it to FLOORS in scripts/check-layers.mjs)`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  const targets = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
    targets.push(target);
    const to = roomOf(target);
    if (to === null || to === from) continue;
    const ff = roomFloor.get(from);
    const tf = roomFloor.get(to);
    if (tf > ff) problems.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}: ${from} (floor ${ff}) must not import ${to} (floor ${tf}, above)`);
    else if (tf === ff) problems.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}: ${from} and ${to} are sibling rooms of floor ${ff}`);
  }
  edges.set(file, targets);
}

// Import circles between files (Tarjan's strongly connected components).
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
function strong(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!edges.has(w)) continue;
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1) problems.push(`import circle: ${comp.map((f) => relative(ROOT, f)).join(' -> ')}`);
  }
}
for (const f of edges.keys()) if (!idx.has(f)) strong(f);

if (problems.length) {
  console.error(`check-layers: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`check-layers: ${files.length} files, imports run downward, no circles`);
