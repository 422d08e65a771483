import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpRateLimit } from '../../src/core/ip-rate-limit.js';

/** A limiter on a clock the test moves. */
function limiter(maxIps = 100): { rl: IpRateLimit; advance: (ms: number) => void } {
  let t = 1_000_000;
  const rl = new IpRateLimit({ burst: 20, perSecond: 10, maxIps, now: () => t });
  return { rl, advance: (ms) => (t += ms) };
}

test('a burst of 20, then one offer per 100 ms; the wait is the time to the next token', () => {
  const { rl, advance } = limiter();
  for (let i = 0; i < 20; i++) assert.equal(rl.take('a'), 0, `offer ${i + 1} of the burst`);
  assert.equal(rl.take('a'), 100);
  advance(50);
  assert.equal(rl.take('a'), 50);
  advance(50);
  assert.equal(rl.take('a'), 0, 'a token came back after 100 ms');
  assert.ok(rl.take('a') > 0);
  // Another address has its own bucket.
  assert.equal(rl.take('b'), 0);
});

test('an idle IP refills to the burst, never beyond it', () => {
  const { rl, advance } = limiter();
  for (let i = 0; i < 20; i++) rl.take('a');
  advance(60_000);
  for (let i = 0; i < 20; i++) assert.equal(rl.take('a'), 0);
  assert.ok(rl.take('a') > 0, 'a minute idle buys 20, not 600');
});

test('the map of IPs stays bounded: refilled IPs go first, then the least recently seen', () => {
  const { rl, advance } = limiter(3);
  for (let i = 0; i < 20; i++) rl.take('flood');
  rl.take('x');
  rl.take('y');
  assert.equal(rl.size, 3);
  // A fourth address evicts the least recently seen (flood), nothing has refilled yet.
  rl.take('z');
  assert.equal(rl.size, 3);
  assert.equal(rl.take('flood'), 0, 'an evicted IP starts again with a full burst');
  assert.equal(rl.size, 3);
  // After a full refill (2 s) all are worth nothing and go at once when a new one arrives.
  advance(2000);
  rl.take('new');
  assert.equal(rl.size, 1);
  for (let i = 0; i < 10_000; i++) rl.take(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(rl.size, 3);
});
