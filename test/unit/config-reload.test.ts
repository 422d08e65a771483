import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, type Env, type ServerConfig } from '../../src/config/server-config.js';
import { deepEqual, diffConfig, GLOBAL_KEYS, VHOST_SECTIONS } from '../../src/config/reload.js';

function load(text: string, env: Env = {}): ServerConfig {
  return parseConfigText(text, 't.conf', env, () => null);
}

const BASE = `
listen 1935;
max_connections 1000;
http_server { enabled on; listen 8080; }
vhost __defaultVhost__ {
  play { gop_cache on; }
  http_remux { enabled on; }
}
vhost a.com {
  tcp_nodelay off;
}
`;

describe('reload diff', () => {
  test('identical configs give no changes', () => {
    assert.deepEqual(diffConfig(load(BASE), load(BASE)), []);
  });

  test('vhost added, removed and changed with the sections that changed', () => {
    const next = BASE.replace('vhost a.com {\n  tcp_nodelay off;\n}', 'vhost b.com { }').replace(
      'play { gop_cache on; }\n  http_remux { enabled on; }',
      'play { gop_cache off; queue_length 5; }\n  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }\n  hls { enabled on; }\n  min_latency on;',
    );
    const changes = diffConfig(load(BASE), load(next));
    assert.deepEqual(changes, [
      { kind: 'vhost-removed', vhost: 'a.com' },
      // mw_msgs follows min_latency, so play changes too; the mount is unchanged (default)
      { kind: 'vhost-changed', vhost: '__defaultVhost__', sections: ['min_latency', 'play', 'hls'] },
      { kind: 'vhost-added', vhost: 'b.com' },
    ]);
  });

  test('publish, http_remux, hooks and security sections', () => {
    const next = BASE.replace(
      'tcp_nodelay off;',
      'tcp_nodelay on;\n  publish { normal_timeout 7000; }\n  http_remux { enabled on; }\n  http_hooks { enabled on; on_publish http://x; }\n  security { enabled on; allow play all; }',
    );
    assert.deepEqual(diffConfig(load(BASE), load(next)), [
      {
        kind: 'vhost-changed',
        vhost: 'a.com',
        sections: ['tcp_nodelay', 'publish', 'http_remux', 'http_hooks', 'security'],
      },
    ]);
  });

  test('listen and global changes, with reloadability', () => {
    const next = BASE.replace('listen 1935;', 'listen 1935 19350;\npid ./x.pid;')
      .replace('max_connections 1000;', 'max_connections 10;')
      .replace('listen 8080;', 'listen 8081;');
    const changes = diffConfig(load(BASE), load(next));
    assert.deepEqual(changes, [
      { kind: 'listen', before: [{ host: null, port: 1935 }], after: [{ host: null, port: 1935 }, { host: null, port: 19350 }] },
      { kind: 'global', key: 'maxConnections', reloadable: true },
      { kind: 'global', key: 'pid', reloadable: false },
      { kind: 'global', key: 'httpServer', reloadable: false },
    ]);
  });

  test('env changes between loads show up like file changes', () => {
    const changes = diffConfig(load(BASE), load(BASE, { SRS_VHOST_PLAY_QUEUE_LENGTH: '3' }));
    assert.deepEqual(changes, [
      { kind: 'vhost-changed', vhost: '__defaultVhost__', sections: ['play'] },
      { kind: 'vhost-changed', vhost: 'a.com', sections: ['play'] },
    ]);
  });

  test('deepEqual', () => {
    assert.equal(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), true);
    assert.equal(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }), false);
    assert.equal(deepEqual([1], { 0: 1 }), false);
    assert.equal(deepEqual({ a: 1 }, { a: 1, b: undefined }), false);
    assert.equal(deepEqual(null, {}), false);
    assert.equal(deepEqual({ f: () => 1, a: 1 }, { f: () => 2, a: 1 }), true);
  });

  test('the schema-derived sections and root keys cover the typed view exactly', () => {
    const c = load(BASE);
    const vhost = c.vhosts[0];
    assert.ok(vhost !== undefined);
    const fields = VHOST_SECTIONS.map(([, f]) => f);
    assert.deepEqual([...fields].sort(), Object.keys(vhost).filter((k) => k !== 'name').sort());
    const notCompared = new Set(['file', 'envOnly', 'warnings', 'inert', 'listen', 'vhosts', 'getVhost']);
    const keys = GLOBAL_KEYS.map(([k]) => k);
    assert.deepEqual([...keys].sort(), Object.keys(c).filter((k) => !notCompared.has(k)).sort());
  });
});
