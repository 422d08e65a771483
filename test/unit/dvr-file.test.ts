import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DvrFile } from '../../src/outputs/dvr/dvr-file.js';

describe('DvrFile', () => {
  test('writes to .tmp in order (batched), patches in place, renames on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dvr-file-'));
    try {
      const errors: Error[] = [];
      const f = await DvrFile.create(join(dir, 'a/b/x.flv'), (e) => errors.push(e));
      assert.ok(existsSync(join(dir, 'a/b/x.flv.tmp')));
      const parts: Buffer[] = [];
      for (let i = 0; i < 600; i++) parts.push(Buffer.from([i & 0xff, (i >> 8) & 0xff]));
      for (const p of parts.slice(0, 10)) f.append([p]);
      f.append(parts.slice(10)); // more than one writev may take
      const done = await f.close([{ offset: 0, data: Buffer.from('FL') }]);
      assert.equal(done, join(dir, 'a/b/x.flv'));
      const want = Buffer.concat(parts);
      Buffer.from('FL').copy(want, 0);
      assert.deepEqual(readFileSync(done), want);
      assert.ok(!existsSync(join(dir, 'a/b/x.flv.tmp')));
      assert.deepEqual(errors, []);
      assert.equal(f.bytes, 1200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file that got no bytes is removed, not renamed; an existing target is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dvr-file-'));
    try {
      const f = await DvrFile.create(join(dir, 'x.mp4'), () => undefined);
      assert.equal(await f.close(), null);
      assert.ok(!existsSync(join(dir, 'x.mp4.tmp')) && !existsSync(join(dir, 'x.mp4')));
      const g = await DvrFile.create(join(dir, 'y.mp4'), () => undefined);
      g.append([Buffer.from('data')]);
      await g.close();
      await assert.rejects(DvrFile.create(join(dir, 'y.mp4'), () => undefined), /exists/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
