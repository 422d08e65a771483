import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ConnectionLimit } from '../../src/core/connection-limit.js';
import { silentLogger } from '../../src/log/logger.js';

/** Enough of a socket for the limit: close events and destroy(). */
function fakeSocket(): Socket & { destroyedByLimit: boolean } {
  const s = new EventEmitter() as unknown as Socket & { destroyedByLimit: boolean };
  s.destroyedByLimit = false;
  (s as unknown as { destroy: () => void }).destroy = () => {
    s.destroyedByLimit = true;
  };
  return s;
}

test('unauthenticated connections may hold half of max_connections; authenticating frees the slot', () => {
  const limit = new ConnectionLimit(6, silentLogger());
  assert.equal(limit.maxPreAuth, 3);
  const pre = [fakeSocket(), fakeSocket(), fakeSocket()].map((s) => limit.admitPreAuth(s, 'rtmp'));
  assert.ok(pre.every((a) => a !== null));
  const fourth = fakeSocket();
  assert.equal(limit.admitPreAuth(fourth, 'rtmp'), null, 'the pre-auth budget is full');
  assert.equal(fourth.destroyedByLimit, true);
  // The rest of max_connections is still there for others (HTTP, API).
  assert.equal(limit.admit(fakeSocket(), 'api'), true);
  // One publishes: its slot goes back to the budget (twice is harmless).
  pre[0]!();
  pre[0]!();
  assert.notEqual(limit.admitPreAuth(fakeSocket(), 'rtmp'), null);
  assert.equal(limit.current, 5);
  assert.equal(limit.admitPreAuth(fakeSocket(), 'rtmp'), null);
});

test('a closed unauthenticated connection leaves both counts; tiny limits keep one pre-auth slot', () => {
  const limit = new ConnectionLimit(1, silentLogger());
  assert.equal(limit.maxPreAuth, 1);
  const s = fakeSocket();
  assert.notEqual(limit.admitPreAuth(s, 'rtmp'), null);
  s.emit('close');
  assert.equal(limit.current, 0);
  assert.notEqual(limit.admitPreAuth(fakeSocket(), 'rtmp'), null);
});

test('acquire() counts a session that is not a socket until it releases (once)', () => {
  const limit = new ConnectionLimit(2, silentLogger());
  const a = limit.acquire('rtc-play', '10.0.0.1');
  assert.ok(a);
  assert.equal(limit.admit(fakeSocket(), 'api'), true);
  assert.equal(limit.current, 2);
  assert.equal(limit.acquire('rtc-play', '10.0.0.1'), null, 'full: sessions and sockets share max_connections');
  a();
  a();
  assert.equal(limit.current, 1);
  assert.ok(limit.acquire('rtc-play', '10.0.0.1'));
});
