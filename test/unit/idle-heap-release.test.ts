import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleHeapRelease } from '../../src/core/idle-heap-release.js';
import { silentLogger } from '../../src/log/logger.js';

test('the heap is collected once a wave of streams has left no source, not while one is live', () => {
  let collections = 0;
  const release = new IdleHeapRelease(silentLogger(), () => collections++);
  release.noteFreed(40, 3);
  release.noteFreed(20, 1);
  assert.equal(collections, 0, 'sources remain: media may be flowing');
  release.noteFreed(1, 0);
  assert.equal(collections, 1, '61 sources freed and none left');
  release.noteFreed(1, 0);
  assert.equal(collections, 1, 'one stream that ends is not worth a collection');
  release.noteFreed(49, 0);
  assert.equal(collections, 2);
});

test('without an injected collector it finds V8 gc() and runs it', async () => {
  const release = new IdleHeapRelease(silentLogger());
  const ref = ((): WeakRef<object> => new WeakRef({ departed: Buffer.alloc(1024) }))();
  // WeakRef targets are kept until the job that made them ends.
  await new Promise((r) => setImmediate(r));
  release.noteFreed(100, 0);
  assert.equal(ref.deref(), undefined, 'the unreachable object was collected by the release');
});
