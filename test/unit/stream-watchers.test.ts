// Which producers some viewer watches (a resumed consumer), and the change
// notices renderers gate their frame loop on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamWatchers } from '../../server/stream-watchers.js';

function recorder(w: StreamWatchers, producerId: string): boolean[] {
  const seen: boolean[] = [];
  w.watch(producerId, (watched) => seen.push(watched));
  return seen;
}

test('a paused consumer (warm standby) does not watch; resuming it does, pausing it again does not', () => {
  const w = new StreamWatchers();
  const seen = recorder(w, 'p1');
  w.consumerOpened('c1', 'p1', false);
  assert.equal(w.isWatched('p1'), false);
  assert.deepEqual(seen, []);
  w.consumerResumed('c1');
  assert.equal(w.isWatched('p1'), true);
  w.consumerResumed('c1'); // repeated: no second notice
  w.consumerPaused('c1');
  assert.equal(w.isWatched('p1'), false);
  assert.deepEqual(seen, [true, false]);
});

test('notices only on the edges: the second viewer and the last one leaving', () => {
  const w = new StreamWatchers();
  const seen = recorder(w, 'p1');
  w.consumerOpened('c1', 'p1', true);
  w.consumerOpened('c2', 'p1', true);
  w.consumerClosed('c1');
  assert.equal(w.isWatched('p1'), true);
  w.consumerClosed('c2');
  w.consumerClosed('c2'); // closing twice is harmless
  assert.equal(w.isWatched('p1'), false);
  assert.deepEqual(seen, [true, false]);
});

test('producers are independent, and an unsubscribed listener hears nothing', () => {
  const w = new StreamWatchers();
  const p1 = recorder(w, 'p1');
  const p2: boolean[] = [];
  const off = w.watch('p2', (v) => p2.push(v));
  w.consumerOpened('a', 'p1', true);
  off();
  w.consumerOpened('b', 'p2', true);
  assert.equal(w.isWatched('p2'), true);
  assert.deepEqual(p1, [true]);
  assert.deepEqual(p2, []);
  // Events for unknown consumers change nothing.
  w.consumerResumed('nope');
  w.consumerPaused('nope');
  assert.equal(w.isWatched('p1'), true);
});
