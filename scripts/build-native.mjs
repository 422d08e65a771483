#!/usr/bin/env node
// Builds the native addons (native/udp-relay: the WebRTC UDP relay;
// native/tcp-writer: realtime fan-out writes) with node-gyp, against the
// headers of the Node.js that runs this script: no download, so it works
// offline. Run by `postinstall`. Both are optional: when one cannot be built
// (no compiler, not Linux) the server says so at start and uses its JavaScript
// path, so a failed build never fails `npm install`.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const ADDONS = [
  { dir: 'udp-relay', target: 'sluice_udp_relay', source: 'udp_relay.cc', without: 'WebRTC will use the JavaScript relay' },
  { dir: 'tcp-writer', target: 'sluice_tcp_writer', source: 'tcp_writer.cc', without: "realtime fan-out will use Node's write path" },
];

function skip(addon, why) {
  console.error(`build-native: native/${addon.dir} not built (${why}); ${addon.without}`);
}

function build(addon) {
  const dir = join(ROOT, addon.dir);
  const out = join(dir, 'build', 'Release', `${addon.target}.node`);
  const inputs = [join(dir, 'binding.gyp'), join(dir, 'src', addon.source)];
  if (existsSync(out) && inputs.every((f) => statSync(f).mtimeMs <= statSync(out).mtimeMs)) return;
  const gyp = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find(
    (p) => p !== undefined && p !== '' && existsSync(p),
  );
  if (gyp === undefined) return skip(addon, 'node-gyp not found next to npm');
  // The running Node's own headers (Debian: /usr/include/node), so node-gyp does not try to download them.
  const prefix = join(dirname(process.execPath), '..');
  const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
  const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const r = spawnSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) return skip(addon, `node-gyp exited ${r.status}: ${(r.stderr ?? '').split('\n').filter((l) => /error|ERR!/.test(l)).slice(0, 3).join(' | ').slice(0, 400)}`);
  console.error(`build-native: built native/${addon.dir}`);
}

if (process.platform !== 'linux') {
  for (const a of ADDONS) skip(a, `${process.platform} is not Linux`);
} else {
  for (const a of ADDONS) build(a);
}
