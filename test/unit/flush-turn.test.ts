import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlushTurn } from '../../src/live/flush-turn.js';

test('a turn makes one task per kind, finishes them in order of first use, is empty afterwards, and keeps its tasks for the next turn', () => {
  const turn = new FlushTurn();
  const done: string[] = [];
  const A = {};
  const B = {};
  let made = 0;
  const task = (name: string) => () => {
    made++;
    return { finish: () => done.push(name) };
  };
  turn.task(A, task('a'));
  turn.task(B, task('b'));
  turn.task(A, task('a2'));
  assert.equal(made, 2);
  turn.finish();
  assert.deepEqual(done, ['a', 'b']);
  turn.finish();
  assert.deepEqual(done, ['a', 'b'], 'nothing left to finish');
  turn.task(A, task('a3'));
  turn.finish();
  assert.deepEqual(done, ['a', 'b', 'a'], 'the task is kept for the next turn, and only the used one finishes');
  assert.equal(made, 2);
});
