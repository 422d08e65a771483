import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostOf, matchMount, vhostMounts } from '../../src/servers/http-static/static-mounts.js';
import type { VhostConfig } from '../../src/config/vhost-config.js';

function vhost(name: string, mount: string, dir: string, enabled = true): VhostConfig {
  return { name, enabled: true, httpStatic: { enabled, mount, dir } } as VhostConfig;
}

const MOUNTS = vhostMounts([
  vhost('__defaultVhost__', '[vhost]/', './html/default'),
  vhost('a.example', '[vhost]/', './html/[vhost]'),
  vhost('b.example', '/files', './html/b'),
  vhost('off.example', '/off/', './html/off', false),
]);

test('mounts as SRS makes them: [vhost] replaced, the default vhost at /, a trailing slash', () => {
  assert.deepEqual(
    MOUNTS.map((m) => [m.host, m.prefix, m.dir]),
    [
      [null, '/', './html/default'],
      ['a.example', '/', './html/a.example'],
      [null, '/files/', './html/b'],
    ],
  );
});

test('the Host-specific mount wins, then the longest prefix; the prefix leaves the path', () => {
  const at = (host: string, path: string): [string, string] | null => {
    const m = matchMount(MOUNTS, host, path);
    return m ? [m.mount.vhost, m.rest] : null;
  };
  assert.deepEqual(at('a.example', '/x/y.html'), ['a.example', '/x/y.html']);
  assert.deepEqual(at('other', '/x/y.html'), ['__defaultVhost__', '/x/y.html']);
  assert.deepEqual(at('other', '/files/doc.txt'), ['b.example', '/doc.txt']);
  assert.deepEqual(at('other', '/files'), ['b.example', '/']);
  assert.deepEqual(at('other', '/off/x'), ['__defaultVhost__', '/off/x']);
  assert.equal(matchMount(vhostMounts([vhost('b', '/files/', './b')]), 'h', '/other'), null);
});

test('hostOf drops the port and IPv6 brackets', () => {
  assert.equal(hostOf('A.Example:8080'), 'a.example');
  assert.equal(hostOf('[::1]:8080'), '::1');
  assert.equal(hostOf(undefined), '');
});
