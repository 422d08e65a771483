#!/usr/bin/env node
// Builds the native UDP relay (native/udp-relay) with node-gyp, against the
// headers of the Node.js that runs this script: no download, so it works
// offline. Run by `postinstall`. The relay is optional: when it cannot be
// built (no compiler, not Linux) the server says so at start and WebRTC uses
// the JavaScript relay, so a failed build never fails `npm install`.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'udp-relay');
const OUT = join(DIR, 'build', 'Release', 'sluice_udp_relay.node');
const INPUTS = [join(DIR, 'binding.gyp'), join(DIR, 'src', 'udp_relay.cc')];

function skip(why) {
  console.error(`build-native: native UDP relay not built (${why}); WebRTC will use the JavaScript relay`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`${process.platform} is not Linux`);
if (existsSync(OUT) && INPUTS.every((f) => statSync(f).mtimeMs <= statSync(OUT).mtimeMs)) process.exit(0);

const gyp = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find(
  (p) => p !== undefined && p !== '' && existsSync(p),
);
if (gyp === undefined) skip('node-gyp not found next to npm');
// The running Node's own headers (Debian: /usr/include/node), so node-gyp does not try to download them.
const prefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { cwd: DIR, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) skip(`node-gyp exited ${r.status}: ${(r.stderr ?? '').split('\n').filter((l) => /error|ERR!/.test(l)).slice(0, 3).join(' | ').slice(0, 400)}`);
console.error('build-native: built native/udp-relay');
