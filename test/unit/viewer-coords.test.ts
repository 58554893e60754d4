import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapToApp } from '../../viewer/coords.js';
import { STAMP_HEIGHT } from '../../protocol/frame-stamp.js';

const app = { width: 1280, height: 720 };

test('the crop box at 1:1 maps client pixels to app pixels', () => {
  const p = mapToApp(110, 220, { left: 10, top: 20, width: 1280, height: 720 }, app, { extraRows: 0, fit: 'fill' });
  assert.deepEqual(p, { x: 100, y: 200, inside: true });
});

test('a scaled-down crop box scales coordinates up', () => {
  const p = mapToApp(320, 180, { left: 0, top: 0, width: 640, height: 360 }, app, { extraRows: 0, fit: 'fill' });
  assert.deepEqual(p, { x: 640, y: 360, inside: true });
  const corner = mapToApp(640, 360, { left: 0, top: 0, width: 640, height: 360 }, app, { extraRows: 0, fit: 'fill' });
  assert.equal(corner.inside, false);
});

test('the full video element includes the stamp strip below the app', () => {
  // The element shows 720 + 16 source rows in 368 CSS px (half size).
  const box = { left: 0, top: 0, width: 640, height: (720 + STAMP_HEIGHT) / 2 };
  const p = mapToApp(320, 180, box, app, { extraRows: STAMP_HEIGHT, fit: 'fill' });
  assert.deepEqual(p, { x: 640, y: 360, inside: true });
  const strip = mapToApp(320, 364, box, app, { extraRows: STAMP_HEIGHT, fit: 'fill' });
  assert.equal(strip.inside, false, 'a point on the stamp strip is outside the app');
  assert.equal(strip.y, 728);
});

test('letterboxed (contain) content is offset and uniformly scaled', () => {
  // 1280x720 content in a 1000x1000 box: scale 0.78125, bars of 218.75 px top and bottom.
  const box = { left: 0, top: 0, width: 1000, height: 1000 };
  const p = mapToApp(500, 500, box, app, { extraRows: 0, fit: 'contain' });
  assert.deepEqual(p, { x: 640, y: 360, inside: true });
  const bar = mapToApp(500, 100, box, app, { extraRows: 0, fit: 'contain' });
  assert.equal(bar.inside, false);
  assert.ok(bar.y < 0);
});

test('points outside (during a drag) are still mapped, clamped to the schema range, and rounded', () => {
  const box = { left: 0, top: 0, width: 3, height: 3 };
  const far = mapToApp(1e9, -1e9, box, app, { extraRows: 0, fit: 'fill' });
  assert.equal(far.x, 100_000);
  assert.equal(far.y, -100_000);
  const frac = mapToApp(1, 1, box, app, { extraRows: 0, fit: 'fill' });
  assert.equal(frac.x, 426.67);
});

test('a zero-size box maps to the origin instead of dividing by zero', () => {
  assert.deepEqual(mapToApp(5, 5, { left: 0, top: 0, width: 0, height: 0 }, app, { extraRows: 0, fit: 'fill' }), {
    x: 0,
    y: 0,
    inside: false,
  });
});
