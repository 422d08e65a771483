import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { cacheControlOf, contentTypeOf, parseRange, safeRequestPath } from '../../src/core/static-files.js';
import { jailedPath } from '../../src/core/path-jail.js';

describe('static files: jail, types, ranges', () => {
  test('traversal in every spelling is refused', () => {
    for (const p of ['/../etc/passwd', '/a/../../x', '/%2e%2e/etc/passwd', '/%2E%2e/x', '/%252e%252e/etc/passwd', '/..%5c..%5cetc', '/a\\..\\b', '/x%00.ts', '/%2e%2e%2fetc', '/bad%zz']) {
      assert.equal(safeRequestPath(p), null, p);
    }
    assert.equal(safeRequestPath('/live/livestream-1.ts'), '/live/livestream-1.ts');
    assert.equal(safeRequestPath('/live/my%20stream.m3u8'), '/live/my stream.m3u8');
    assert.equal(jailedPath('/srv/www', '/live/a.ts'), resolve('/srv/www/live/a.ts'));
    assert.equal(jailedPath('/srv/www', '/../../etc'), null);
  });

  test('SRS content types and caching', () => {
    assert.equal(contentTypeOf('a.m3u8'), 'application/vnd.apple.mpegurl');
    assert.equal(contentTypeOf('a.ts'), 'video/MP2T');
    assert.equal(contentTypeOf('a.mpd'), 'application/dash+xml');
    assert.equal(contentTypeOf('a.m4s'), 'video/iso.segment');
    assert.equal(contentTypeOf('a.unknownext'), 'application/octet-stream');
    assert.equal(cacheControlOf('a.m3u8'), 'public, max-age=1');
    assert.equal(cacheControlOf('a.ts'), 'public, max-age=60');
  });

  test('byte ranges', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=10-5000', 1000), { start: 10, end: 999 });
    assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-1', 1000), 'unsatisfiable');
    assert.equal(parseRange('items=1-2', 1000), null);
    assert.equal(parseRange(undefined, 1000), null);
  });
});
