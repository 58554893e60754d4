// The input sender's round-trip window (viewer/rolling-window.ts): the percentile it
// answers from its sorted copy equals a sort of the last `capacity` samples, whatever
// the arrival order, duplicates included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RollingWindow } from '../../viewer/rolling-window.js';
import { prng } from '../helpers/prng.js';

function naive(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? null;
}

test('percentiles match a sort of the last capacity samples, through evictions and duplicates', () => {
  const rnd = prng(18);
  for (const capacity of [1, 2, 7, 64]) {
    const w = new RollingWindow(capacity);
    const all: number[] = [];
    for (let i = 0; i < 500; i++) {
      // Few distinct values, so duplicates are evicted next to equal survivors.
      const x = Math.floor(rnd() * 20) * 5 + (rnd() < 0.1 ? 0.5 : 0);
      w.push(x);
      all.push(x);
      const last = all.slice(-capacity);
      assert.equal(w.length, last.length);
      for (const p of [0, 0.01, 0.5, 0.9, 0.99, 1])
        assert.equal(w.percentile(p), naive(last, p), `cap ${capacity} #${i} p${p}`);
    }
  }
});

test('an empty window has no percentile; a capacity below 1 is refused', () => {
  assert.equal(new RollingWindow(3).percentile(0.5), null);
  assert.throws(() => new RollingWindow(0), RangeError);
});
