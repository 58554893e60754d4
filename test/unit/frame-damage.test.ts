// The rect math of partial read-backs (render/frame-damage.ts), the SDK's
// DamageTracker (render/sdk/damage.ts) and the renderer's rules for when a
// damage report is used at all (render/frame-renderer.ts): an app is untrusted,
// so anything but a short list of finite rectangles reads back the whole frame.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { capBands, damageBands, evenBand, MAX_BANDS, MAX_DAMAGE_RECTS, mergeBands } from '../../render/frame-damage.js';
import { FrameRenderer } from '../../render/frame-renderer.js';
import type { Painter } from '../../render/replica-app.js';
import { DamageTracker, type FrameInfo } from '../../render/sdk/damage.js';

const view = { width: 640, height: 401 };
const rect = (x: number, y: number, width: number, height: number) => ({ x, y, width, height });

test('bands are clamped to the app area and widened to even rows', () => {
  assert.deepEqual(damageBands([rect(10, 3, 5, 2)], view), [{ top: 2, bottom: 6 }]);
  assert.deepEqual(damageBands([rect(0, 10.2, 1, 3.1)], view), [{ top: 10, bottom: 14 }]);
  // Past the bottom of an odd-height area: up to its last row, which shares its chroma row with the strip's.
  assert.deepEqual(damageBands([rect(0, 390, 10, 500)], view), [{ top: 390, bottom: 402 }]);
  assert.deepEqual(damageBands([rect(-50, -20, 100, 25)], view), [{ top: 0, bottom: 6 }]);
  // Wholly outside, or empty: nothing to read.
  assert.deepEqual(
    damageBands([rect(700, 10, 5, 5), rect(-10, 10, 10, 5), rect(0, 401, 5, 5), rect(5, 5, 0, 9)], view),
    [],
  );
  assert.deepEqual(damageBands([], view), []);
  assert.deepEqual(evenBand(3, 7), { top: 2, bottom: 8 });
  assert.deepEqual(evenBand(4, 8), { top: 4, bottom: 8 });
});

test('overlapping and touching bands are merged, and at most MAX_BANDS are kept', () => {
  assert.deepEqual(
    mergeBands([
      { top: 40, bottom: 50 },
      { top: 0, bottom: 10 },
      { top: 10, bottom: 12 },
      { top: 44, bottom: 60 },
    ]),
    [
      { top: 0, bottom: 12 },
      { top: 40, bottom: 60 },
    ],
  );
  const many = Array.from({ length: 10 }, (_, i) => ({
    top: i * 20 + (i === 4 ? 8 : 0),
    bottom: i * 20 + 10 + (i === 4 ? 8 : 0),
  }));
  const capped = capBands(many, MAX_BANDS);
  assert.equal(capped.length, MAX_BANDS);
  // Every row of the input is still covered.
  for (const b of many) assert.ok(capped.some((c) => c.top <= b.top && c.bottom >= b.bottom));
  // The narrowest gap (band 4 sits 8 rows lower, 2 rows from band 5) went first.
  assert.ok(capped.some((c) => c.top <= 88 && c.bottom >= 110 && c.top > 70));
  const rects = Array.from({ length: 10 }, (_, i) => rect(0, i * 30, 10, 4));
  assert.equal(damageBands(rects, view)?.length, MAX_BANDS);
});

test('a malformed or outsized report is the whole frame', () => {
  for (const bad of [
    undefined,
    null,
    'all',
    { x: 0, y: 0, width: 1, height: 1 },
    [null],
    [rect(Number.NaN, 0, 1, 1)],
    [rect(0, Number.POSITIVE_INFINITY, 1, 1)],
    [rect(0, 0, -1, 1)],
    [{ x: 0, y: 0, width: 1 }],
    [{ x: '0', y: 0, width: 1, height: 1 }],
    Array.from({ length: MAX_DAMAGE_RECTS + 1 }, () => rect(0, 0, 1, 1)),
  ])
    assert.equal(damageBands(bad, view), null, JSON.stringify(bad));
  // Most of the area damaged: one read-back of all of it.
  assert.equal(damageBands([rect(0, 0, 640, 300)], view), null);
});

test('the tracker reports changed, moved, new and gone parts, and only against the frame it saw last', () => {
  const t = new DamageTracker();
  const a = { id: 'a', rect: rect(0, 0, 10, 10), key: '1' };
  const b = { id: 'b', rect: rect(0, 20, 10, 10), key: '1' };
  const f = (id: number, over: number | null): FrameInfo => ({ id, over });
  assert.equal(t.frame(f(1, null), [a, b]), undefined);
  assert.deepEqual(t.frame(f(2, 1), [a, b]), []);
  assert.deepEqual(t.frame(f(3, 2), [a, { ...b, key: '2' }]), [b.rect, b.rect]);
  assert.deepEqual(t.frame(f(4, 3), [{ ...a, rect: rect(5, 5, 10, 10) }]), [a.rect, rect(5, 5, 10, 10), b.rect]);
  // No FrameInfo (an export): all of it, and the memory of frame 4 is kept.
  assert.equal(t.frame(undefined, []), undefined);
  assert.deepEqual(t.frame(f(5, 4), [{ ...a, rect: rect(5, 5, 10, 10) }, b], [rect(1, 1, 1, 1)]), [
    rect(1, 1, 1, 1),
    b.rect,
  ]);
  // Over a frame it did not draw last: all of it.
  assert.equal(t.frame(f(6, 4), [a]), undefined);
  t.reset();
  assert.equal(t.frame(f(7, 6), [a]), undefined);
});

/** Paints a grey surface with a block at row `y`, answering `damage`. */
const block =
  (y: number, damage: unknown): Painter =>
  (ctx) => {
    ctx.fillStyle = '#808080';
    ctx.fillRect(0, 0, 640, 401);
    ctx.fillStyle = '#ff0000';
    ctx.fillRect(100, y, 50, 10);
    return damage;
  };

test('the renderer uses a report only about the frame it holds, and reads back all else whole', () => {
  const r = new FrameRenderer();
  const first = r.nextFrame(view);
  assert.equal(first.over, null);
  const full = r.render(view, 1, block(10, []), first);
  assert.equal(r.lastTimings.rows, full.height);
  const next = r.nextFrame(view);
  assert.equal(next.over, first.id);
  r.render(view, 2, block(40, [rect(100, 10, 50, 40)]), next);
  assert.ok(r.lastTimings.rows < full.height / 2, `rows ${r.lastTimings.rows}`);
  // A malformed report: whole.
  r.render(view, 3, block(40, [rect(0, 0, Number.NaN, 1)]), r.nextFrame(view));
  assert.equal(r.lastTimings.rows, full.height);
  // A FrameInfo that is not about the held frame (a stale one): whole.
  r.render(view, 4, block(40, []), next);
  assert.equal(r.lastTimings.rows, full.height);
  // Asked whole (a resume), after a draw() that did not convert, after a resize: over is null.
  assert.equal(r.nextFrame(view, true).over, null);
  r.draw(view, 5, block(40, []));
  assert.equal(r.nextFrame(view).over, null);
  r.render(view, 6, block(40, []), r.nextFrame(view));
  assert.notEqual(r.nextFrame(view).over, null);
  assert.equal(r.nextFrame({ width: 640, height: 400 }).over, null);
  // No report at all (an app that ignores FrameInfo): whole.
  r.render(view, 7, block(40, undefined), r.nextFrame(view));
  assert.equal(r.lastTimings.rows, full.height);
});

test('an unchanged app area reads back only the stamp strip, and the frame still equals a full one', () => {
  const r = new FrameRenderer();
  r.render(view, 1, block(10, undefined), r.nextFrame(view));
  const frame = r.render(view, 2, block(10, []), r.nextFrame(view));
  assert.ok(r.lastTimings.rows <= 32, `rows ${r.lastTimings.rows}`);
  const want = new FrameRenderer().render(view, 2, block(10, undefined));
  assert.ok(Buffer.from(frame.i420).equals(Buffer.from(want.i420)));
});
