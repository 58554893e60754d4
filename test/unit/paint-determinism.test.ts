import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCanvas } from 'canvas';
import { NO_MODS, type InputEvent, type SequencedInput } from '../../protocol/input.js';
import { stateHashOf } from '../../render/app-hash.js';
import { paintApp } from '../../render/apps/index.js';
import type { PaintState } from '../../render/apps/paint/index.js';
import { countPoints, visibleStrokes } from '../../render/apps/paint/state.js';
import { TOOLBAR_ITEMS } from '../../render/apps/paint/toolbar.js';
import { prng } from '../helpers/prng.js';
import {
  assertRestoreEveryStep,
  assertSourcesDeterministic,
  coldRun,
  renderPixels,
  replay,
  sequenceEvents,
  sha256Hex,
} from '../helpers/app-driver.js';

const PAINT_DIR = fileURLToPath(new URL('../../render/apps/paint/', import.meta.url));

const KEYS: readonly { key: string; ctrl?: boolean; shift?: boolean }[] = [
  { key: 'z', ctrl: true },
  { key: 'Z', ctrl: true, shift: true },
  { key: 'y', ctrl: true },
  { key: '[' },
  { key: ']' },
  { key: 'e' },
  { key: 'Delete' },
  ...['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((key) => ({ key })),
];

/** A seeded, plausible log: strokes (mouse, pen, touch), toolbar clicks, shortcuts, resizes, lost releases. */
function buildLog(seed: number, count: number): SequencedInput[] {
  const rnd = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const events: InputEvent[] = [];
  let width = 1000;
  let height = 700;
  const pointer = (
    action: 'down' | 'move' | 'up',
    x: number,
    y: number,
    pointerType: 'mouse' | 'touch' | 'pen',
    buttons = action === 'up' ? 0 : 1,
  ): InputEvent => ({ type: 'pointer', action, x, y, button: 0, buttons, mods: NO_MODS, pointerType });
  while (events.length < count) {
    const r = rnd();
    if (r < 0.55) {
      const type = pick(['mouse', 'touch', 'pen'] as const);
      let x = rnd() * width;
      let y = 40 + rnd() * (height - 60);
      events.push(pointer('down', x, y, type));
      for (let i = Math.floor(rnd() * 12); i > 0; i--) {
        // Fractional coordinates and sub-pixel jitter exercise rounding and point skipping.
        x += (rnd() - 0.5) * 80;
        y += (rnd() - 0.5) * 80;
        events.push(pointer('move', x, y, type));
        if (rnd() < 0.1) events.push(pointer('move', x + 0.2, y - 0.3, type));
      }
      const end = rnd();
      if (end < 0.8) events.push(pointer('up', x, y, type));
      else if (end < 0.9) events.push(pointer('move', x, y, type, 0));
      else if (end < 0.95) events.push({ type: 'release-all' });
      // else: no release at all; the next press ends the stroke.
    } else if (r < 0.65) {
      const item = pick(TOOLBAR_ITEMS);
      events.push(pointer('down', item.x + rnd() * item.w, item.y + rnd() * item.h, 'mouse'));
      events.push(pointer('up', item.x + 1, item.y + 1, 'mouse'));
    } else if (r < 0.88) {
      const k = pick(KEYS);
      const mods = { ...NO_MODS, ctrl: k.ctrl ?? false, shift: k.shift ?? false };
      events.push({ type: 'key', action: 'down', key: k.key, code: '', mods });
      events.push({ type: 'key', action: 'up', key: k.key, code: '', mods });
    } else if (r < 0.91) {
      width = 320 + Math.floor(rnd() * 1000);
      height = 240 + Math.floor(rnd() * 600);
      events.push({ type: 'resize', width, height });
    } else if (r < 0.94) {
      events.push({ type: 'wheel', x: 10, y: 10, dx: 0, dy: 100, mods: NO_MODS });
    } else {
      events.push(pointer('move', rnd() * width, rnd() * height, 'mouse', 0));
    }
  }
  return sequenceEvents(events.slice(0, count));
}

const run = (state: PaintState, log: readonly SequencedInput[]): PaintState => replay(paintApp, state, log);

const pixels = (state: PaintState): Buffer => renderPixels(paintApp, state);
const hashOf = (s: PaintState): string => stateHashOf(paintApp.snapshot(s));

describe('paint determinism', () => {
  const log = buildLog(0x5eed, 600);
  const init = { width: 1000, height: 700 };

  test('the same log twice gives the same bytes, hash and pixels', () => {
    const a = run(paintApp.init(init), log);
    const b = run(paintApp.init(init), log);
    assert.ok(visibleStrokes(a).length >= 5, 'the log should leave strokes on the board');
    assert.ok(a.items.length >= 30, 'the log should build some history');
    assert.deepEqual(paintApp.snapshot(a), paintApp.snapshot(b));
    assert.equal(hashOf(a), hashOf(b));
    assert.ok(pixels(a).equals(pixels(b)), 'rendered pixels differ');
    assert.equal(a.totalPoints, countPoints(a.items, a.drawing));
  });

  test('snapshot half-way, restore, apply the rest: same hash and pixels', () => {
    const whole = run(paintApp.init(init), log);
    const half = run(paintApp.init(init), log.slice(0, 300));
    const resumed = run(paintApp.restore(paintApp.snapshot(half)), log.slice(300));
    assert.equal(hashOf(resumed), hashOf(whole));
    assert.ok(pixels(resumed).equals(pixels(whole)), 'rendered pixels differ after restore');
  });

  test('the raster cache is invisible: rendering after every input matches a cold render', () => {
    // `warm` is rendered after every input (incremental raster, rebuilds on undo/resize);
    // each comparison renders a restored copy, which starts with no cache at all.
    let warm = paintApp.init(init);
    const ctx = createCanvas(1400, 900).getContext('2d');
    log.forEach((input, i) => {
      warm = paintApp.apply(warm, input);
      paintApp.render(warm, ctx);
      if (i % 25 === 24 || i === log.length - 1) {
        const cold = paintApp.restore(paintApp.snapshot(warm));
        assert.ok(pixels(warm).equals(pixels(cold)), `warm and cold renders differ at seq ${input.seq}`);
      }
    });
  });

  test('the raster cache is invisible through long undo/redo runs, clears and resizes', () => {
    const rnd = prng(7);
    let seq = 0;
    let s = paintApp.init({ width: 640, height: 480 });
    const ctx = createCanvas(640, 480).getContext('2d');
    const send = (event: InputEvent): void => {
      seq++;
      s = paintApp.apply(s, { seq, time: seq, clientId: 'c', clientSeq: seq, event });
      paintApp.render(s, ctx);
      if (seq % 7 === 0) {
        const cold = paintApp.restore(paintApp.snapshot(s));
        assert.ok(pixels(s).equals(pixels(cold)), `warm and cold renders differ at seq ${seq}`);
      }
    };
    const key = (k: string, ctrl = true): void =>
      send({ type: 'key', action: 'down', key: k, code: '', mods: { ...NO_MODS, ctrl } });
    const stroke = (): void => {
      key(String(1 + Math.floor(rnd() * 8)), false);
      const x = 50 + rnd() * 540;
      const y = 60 + rnd() * 380;
      const p = (action: 'down' | 'move' | 'up', dx: number, dy: number): void =>
        send({
          type: 'pointer',
          action,
          x: x + dx,
          y: y + dy,
          button: 0,
          buttons: action === 'up' ? 0 : 1,
          mods: NO_MODS,
        });
      p('down', 0, 0);
      p('move', rnd() * 60 - 30, rnd() * 60 - 30);
      p('up', rnd() * 60 - 30, rnd() * 60 - 30);
    };
    for (let i = 0; i < 150; i++) stroke();
    for (let i = 0; i < 80; i++) key('z');
    for (let i = 0; i < 40; i++) key('y');
    for (let i = 0; i < 20; i++) stroke();
    key('Delete', false);
    stroke();
    key('z');
    key('z');
    send({ type: 'resize', width: 500, height: 400 });
    for (let i = 0; i < 10; i++) key('z');
    assert.ok(visibleStrokes(s).length > 50);
    assert.ok(pixels(s).equals(pixels(paintApp.restore(paintApp.snapshot(s)))));
  });

  test('restoring after every input never diverges (no state hides outside the snapshot)', () => {
    for (const seed of [1, 2, 3]) assertRestoreEveryStep(paintApp, init, buildLog(seed, 300), `seed ${seed}`);
  });

  test('different seeds give different boards (the log is not trivial)', () => {
    const a = run(paintApp.init(init), log);
    const b = run(paintApp.init(init), buildLog(0xbeef, 600));
    assert.notEqual(hashOf(a), hashOf(b));
  });

  test('a fresh process (cold caches) reaches the same hash and pixels', () => {
    const here = run(paintApp.init(init), log);
    const child = coldRun('paint', init, log);
    assert.equal(child.hash, hashOf(here));
    assert.equal(child.pixels, sha256Hex(pixels(here)));
  });

  test('paint sources never read clocks or randomness', () => {
    assertSourcesDeterministic(PAINT_DIR, 5);
  });
});
