// render/tile-diff.ts: a full-width damage rect narrowed to the changed rows'
// extent and runs of changed columns against the held picture, which takes the
// new pixels; nothing changed is no rect; too many runs become one span.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { changedRects, MAX_RUNS, MERGE_GAP } from '../../render/tile-diff.js';

const W = 400;
const H = 50;

function picture(): Uint32Array {
  return new Uint32Array(W * H).fill(0xffffffff);
}

/** The rows [y, y + h) of `pic`, as the tile stream reads a band. */
function rows(pic: Uint32Array, y: number, h: number): Uint32Array {
  return pic.slice(y * W, (y + h) * W);
}

function set(pic: Uint32Array, x: number, y: number, v = 0xff000000): void {
  pic[y * W + x] = v;
}

test('nothing changed: no rect, and the held picture stays', () => {
  const held = picture();
  const now = picture();
  assert.deepEqual(changedRects(held, W, rows(now, 10, 20), { x: 0, y: 10, width: W, height: 20 }), []);
});

test('one change: its rows and columns only; the held picture takes it (a second call finds nothing)', () => {
  const held = picture();
  const now = picture();
  set(now, 100, 15);
  set(now, 104, 18);
  const rect = { x: 0, y: 10, width: W, height: 20 };
  assert.deepEqual(changedRects(held, W, rows(now, 10, 20), rect), [{ x: 100, y: 15, width: 5, height: 4 }]);
  assert.equal(held[18 * W + 104], 0xff000000);
  assert.deepEqual(changedRects(held, W, rows(now, 10, 20), rect), []);
});

test('runs further apart than MERGE_GAP are separate tiles; closer ones merge', () => {
  const held = picture();
  const now = picture();
  set(now, 10, 0);
  set(now, 10 + MERGE_GAP, 1); // merged: gap of MERGE_GAP - 1 unchanged columns
  set(now, 300, 2);
  assert.deepEqual(changedRects(held, W, rows(now, 0, 10), { x: 0, y: 0, width: W, height: 10 }), [
    { x: 10, y: 0, width: MERGE_GAP + 1, height: 3 },
    { x: 300, y: 0, width: 1, height: 3 },
  ]);
});

test('more than MAX_RUNS runs: one span from the first changed column to the last', () => {
  const held = picture();
  const now = picture();
  for (let i = 0; i <= MAX_RUNS; i++) set(now, i * (MERGE_GAP + 2), 5);
  const out = changedRects(held, W, rows(now, 0, 10), { x: 0, y: 0, width: W, height: 10 });
  assert.deepEqual(out, [{ x: 0, y: 5, width: MAX_RUNS * (MERGE_GAP + 2) + 1, height: 1 }]);
});

test('refuses a rect that is not full-width rows or pixels of the wrong count', () => {
  const held = picture();
  assert.throws(() => changedRects(held, W, new Uint32Array(10 * 5), { x: 5, y: 0, width: 10, height: 5 }), RangeError);
  assert.throws(() => changedRects(held, W, new Uint32Array(7), { x: 0, y: 0, width: W, height: 5 }), RangeError);
});
