import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryOriginStore } from '../../src/proxy/memory-origin-store.js';
import { NoLiveOrigin, OriginRouter } from '../../src/proxy/origin-router.js';
import { originFromHeartbeat } from '../../src/proxy/heartbeat-record.js';
import type { OriginRecord } from '../../src/proxy/origin-store.js';

function origin(id: string, at = 0): OriginRecord {
  return { id, ip: '10.0.0.1', rtmp: ['1935'], http: [], api: [], srt: [], rtc: [], updatedAt: at };
}

test('a heartbeat body becomes an origin record; junk does not', () => {
  const r = originFromHeartbeat({ device_id: 'o1', ip: '10.0.0.2', server: 'vid-x', service: 's', pid: 1, rtmp: ['19350'], http: ['8080'], api: ['1985'] }, 5);
  assert.deepEqual(r, { id: 'o1', ip: '10.0.0.2', rtmp: ['19350'], http: ['8080'], api: ['1985'], srt: [], rtc: [], updatedAt: 5 });
  assert.equal(originFromHeartbeat({ ip: '10.0.0.2', server: 'vid-x' }, 0)?.id, 'vid-x');
  assert.equal(originFromHeartbeat({ device_id: 'x' }, 0), null);
  assert.equal(originFromHeartbeat([1, 2], 0), null);
  assert.equal(originFromHeartbeat(null, 0), null);
  assert.equal(originFromHeartbeat({ ip: 'x'.repeat(10_000) }, 0), null);
  assert.equal(originFromHeartbeat({ ip: '1.2.3.4', rtmp: new Array(1000).fill('1') }, 0)?.rtmp.length, 16);
});

test('origins expire without heartbeats; a stream sticks to its live origin and moves when it dies', async () => {
  let now = 0;
  const store = new MemoryOriginStore(() => now);
  const router = new OriginRouter(store);
  await assert.rejects(router.route('v/live/s'), NoLiveOrigin);
  await store.putOrigin(origin('a'), 30_000);
  await store.putOrigin(origin('b'), 30_000);
  const first = await router.route('v/live/s');
  for (let i = 0; i < 5; i++) assert.equal((await router.route('v/live/s')).id, first.id);
  // The holder's heartbeats stop; the other one keeps beating.
  const other = first.id === 'a' ? 'b' : 'a';
  now = 20_000;
  await store.putOrigin(origin(other), 30_000);
  now = 31_000;
  assert.deepEqual((await store.liveOrigins()).map((o) => o.id), [other]);
  assert.equal((await router.route('v/live/s')).id, other);
  now = 60_000;
  await assert.rejects(router.route('v/live/s'), NoLiveOrigin);
});

test('streams spread over origins by their key', async () => {
  const store = new MemoryOriginStore(() => 0);
  for (const id of ['a', 'b', 'c']) await store.putOrigin(origin(id), 1000);
  const router = new OriginRouter(store);
  const used = new Set<string>();
  for (let i = 0; i < 60; i++) used.add((await router.route(`v/live/s${i}`)).id);
  assert.equal(used.size, 3);
  await store.close();
  assert.deepEqual(await store.liveOrigins(), []);
});
