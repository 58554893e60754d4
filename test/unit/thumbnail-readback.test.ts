// A thumbnail's pixels are scaled down on the canvas before they are read back
// (render/frame-renderer.ts appArea): the picture keeps its aspect and its
// colours, the stamp strip stays out, and the frame itself is left alone.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FrameRenderer } from '../../render/frame-renderer.js';
import type { Painter } from '../../render/replica-app.js';

const halves: Painter = (ctx) => {
  ctx.fillStyle = 'rgb(255,0,0)';
  ctx.fillRect(0, 0, 320, 360);
  ctx.fillStyle = 'rgb(0,0,255)';
  ctx.fillRect(320, 0, 320, 360);
};

const pixel = (img: { data: Buffer; width: number }, x: number, y: number) => {
  const i = (y * img.width + x) * 4;
  return [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]];
};

test('a thumbnail read-back is scaled to the width asked, aspect and colours kept, without the stamp', () => {
  const r = new FrameRenderer();
  const view = { width: 640, height: 360 };
  r.render(view, 7, halves);
  const small = r.appArea(160);
  assert.ok(small);
  assert.equal(small.width, 160);
  assert.equal(small.height, 90);
  assert.equal(small.data.length, 160 * 90 * 4);
  assert.deepEqual(pixel(small, 10, 45), [255, 0, 0, 255]);
  assert.deepEqual(pixel(small, 150, 45), [0, 0, 255, 255]);
  // The bottom row is the app's, not the black and white stamp strip's.
  assert.deepEqual(pixel(small, 10, 89), [255, 0, 0, 255]);
  // Wider than the surface: the surface as it is.
  const full = r.appArea(1000);
  assert.ok(full);
  assert.equal(full.width, 640);
  assert.equal(full.height, 360);
  // The frame is untouched: it can still be restamped.
  assert.ok(r.restamp(view, 8));
});
