// Shapes found in SRS's own sample configs (trunk/conf) that Sluice refused or
// passed off silently before the session-9 audit (docs/DECISIONS.md). Each
// snippet is written here to show the shape, not copied from SRS.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/parser.js';
import { parseConfigText, type Env, type ServerConfig } from '../../src/config/server-config.js';

function load(text: string, env: Env = {}): ServerConfig {
  return parseConfigText(text, 't.conf', env, () => null, { cwd: '/cwd' });
}

function loadError(text: string): string {
  try {
    load(text);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

describe('SRS 7 layout: rtmp { listen }', () => {
  test('the block alone gives the RTMP ports (no root listen needed)', () => {
    const c = load('rtmp {\n  listen 19360 [::1]:19361;\n}\nvhost __defaultVhost__ {}\n');
    assert.deepEqual(c.listen, [
      { host: null, port: 19360 },
      { host: '::1', port: 19361 },
    ]);
    assert.deepEqual(c.warnings, []);
    assert.deepEqual(c.inert, []);
  });

  test('with a root listen too, the block wins and the root one is warned about', () => {
    const c = load('listen 1936;\nrtmp { listen 1937; }\nvhost v {}\n');
    assert.deepEqual(c.listen, [{ host: null, port: 1937 }]);
    assert.deepEqual(c.warnings, ['t.conf:1: "listen" ignored: "rtmp.listen" (t.conf:2) sets the RTMP ports']);
  });

  test('an empty rtmp block leaves the root listen required', () => {
    assert.equal(loadError('rtmp {}\nvhost v {}\n'), 't.conf:0: listen requires params');
    assert.deepEqual(load('listen 1935;\nrtmp {}\n').listen, [{ host: null, port: 1935 }]);
  });

  test('other directives in the block are refused, as anywhere', () => {
    assert.equal(loadError('rtmp { listen 1935; chunk_size 4096; }\n'), 't.conf:1: illegal directive "rtmp.chunk_size"');
  });
});
