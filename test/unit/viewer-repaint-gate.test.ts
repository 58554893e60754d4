// The status displays' repaint rule (viewer/repaint-gate.ts): meaning changes show
// at once, counters at most once per interval, and the last counters still show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RepaintGate } from '../../viewer/repaint-gate.js';

test('the first content paints; the same content never repaints', () => {
  const g = new RepaintGate(1000);
  assert.equal(g.due('live h1', 'acked 1', 0), true);
  assert.equal(g.due('live h1', 'acked 1', 5000), false);
});

test('counters that change at 10/s repaint once per interval, and the last value shows on a later poll', () => {
  const g = new RepaintGate(1000);
  let paints = 0;
  let shown = '';
  for (let t = 0; t < 3000; t += 100) {
    const counters = `acked ${t / 100}`;
    if (g.due('live h1', counters, t)) {
      paints++;
      shown = counters;
    }
  }
  assert.equal(paints, 3, '0, 1000 and 2000 ms');
  assert.equal(shown, 'acked 20');
  // Typing stopped at acked 29: the next poll after the interval shows it.
  assert.equal(g.due('live h1', 'acked 29', 2500), false);
  assert.equal(g.due('live h1', 'acked 29', 3000), true);
});

test('a change of meaning paints at once, even right after a paint, with the counters of the moment', () => {
  const g = new RepaintGate(1000);
  assert.equal(g.due('connected|live h1', 'acked 1', 0), true);
  assert.equal(g.due('connected|live h1', 'acked 2', 100), false);
  assert.equal(g.due('connected|live h2', 'acked 2', 150), true, 'a switch shows now');
  assert.equal(g.due('reconnecting|live h2', 'acked 2', 160), true, 'so does a lost connection');
  // The interval counts from that last paint.
  assert.equal(g.due('reconnecting|live h2', 'acked 3', 1100), false);
  assert.equal(g.due('reconnecting|live h2', 'acked 3', 1160), true);
});
