// The collection after each rendered frame (render/frame-gc.ts): one per turn
// however many frames went out in it, none without a collector, and with the
// real collector a full frame's read-back buffer is gone before the next frame
// instead of piling up as external memory.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { CanvasRenderingContext2D } from 'canvas';
import { exposedCollector, FrameGc } from '../../render/frame-gc.js';
import { FrameRenderer } from '../../render/frame-renderer.js';

test('frames sent in one turn share one collection, run after the turn', () => {
  let collected = 0;
  const queued: Array<() => void> = [];
  const gc = new FrameGc({ collect: () => collected++, schedule: (fn) => queued.push(fn) });
  gc.frameSent();
  gc.frameSent();
  gc.frameSent();
  assert.equal(collected, 0, 'nothing runs on the frame path itself');
  assert.equal(queued.length, 1);
  queued.shift()?.();
  assert.equal(collected, 1);
  assert.equal(gc.collections, 1);
  gc.frameSent();
  assert.equal(queued.length, 1, 'the next frame schedules the next collection');
  queued.shift()?.();
  assert.equal(collected, 2);
});

test('without a collector a frame schedules nothing', () => {
  const queued: Array<() => void> = [];
  const gc = new FrameGc({ collect: null, schedule: (fn) => queued.push(fn) });
  gc.frameSent();
  assert.equal(queued.length, 0);
  assert.equal(gc.enabled, false);
});

const MB = 1024 * 1024;
const turn = () => new Promise<void>((r) => setTimeout(r, 5));
const paint = (ctx: CanvasRenderingContext2D) => {
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, 1280, 720);
};

/** ArrayBuffer bytes after each of `frames` full 720p renders, each followed by frameSent() and a turn. */
async function arrayBuffersAfterFrames(gc: FrameGc, frames: number): Promise<number[]> {
  const renderer = new FrameRenderer();
  const seen: number[] = [];
  for (let i = 0; i < frames; i++) {
    renderer.render({ width: 1280, height: 720 }, i + 1, paint);
    gc.frameSent();
    await turn();
    seen.push(process.memoryUsage().arrayBuffers);
  }
  return seen;
}

test('with the runtime collector, read-back buffers do not pile up between frames', async () => {
  const collect = exposedCollector();
  assert.ok(collect, 'Node exposes a collector at run time');
  const frameBytes = 1280 * (720 + 16) * 4;
  // The control: left to V8, several frames' buffers are still held (what the collection is for).
  const left = await arrayBuffersAfterFrames(new FrameGc({ collect: null }), 6);
  collect();
  const collected = await arrayBuffersAfterFrames(new FrameGc({ collect }), 8);
  assert.ok(
    Math.max(...left) >= 3 * frameBytes,
    `control: ${left.map((b) => Math.round(b / MB)).join(' ')} MB held without collections`,
  );
  assert.ok(
    Math.max(...collected.slice(1)) <= 2.5 * frameBytes,
    `with collections: ${collected.map((b) => Math.round(b / MB)).join(' ')} MB (frame ${Math.round(frameBytes / MB)} MB)`,
  );
});
