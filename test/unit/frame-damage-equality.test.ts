// Reading back only the damaged rows must send exactly the pixels of a full
// read-back (render/frame-renderer.ts, render/frame-damage.ts): for each
// built-in app, over a sequence of inputs (typing, pointer, scroll, resize,
// some frames skipped as a busy replica coalesces them), every incremental
// I420 frame equals, byte for byte, the I420 of the same state drawn on a
// fresh renderer and read back whole, and of a state restored from its
// snapshot (cold caches). The surface height is odd, so the chroma rows
// shared by two frame rows are exercised. And the damage is used: typing reads
// back a small share of the rows.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { NO_MODS, type InputEvent, type SequencedInput } from '../../protocol/input.js';
import type { App } from '../../render/app-types.js';
import { getApp } from '../../render/apps/index.js';
import { FrameRenderer } from '../../render/frame-renderer.js';

const seqd = (seq: number, event: InputEvent): SequencedInput => ({
  seq,
  time: 1_700_000_000_000 + seq * 40,
  clientId: 'c',
  clientSeq: seq - 1,
  event,
});

const key = (k: string, text?: string, mods = NO_MODS): InputEvent => ({
  type: 'key',
  action: 'down',
  key: k,
  code: '',
  mods,
  ...(text === undefined ? {} : { text }),
});
const typed = (s: string): InputEvent[] => [...s].map((ch) => key(ch, ch));
const pointer = (action: 'down' | 'move' | 'up', x: number, y: number, buttons = 1): InputEvent => ({
  type: 'pointer',
  action,
  x,
  y,
  button: 0,
  buttons: action === 'up' ? 0 : buttons,
  mods: NO_MODS,
});
const wheel = (dy: number): InputEvent => ({ type: 'wheel', x: 100, y: 100, dx: 0, dy, mods: NO_MODS });

/** Full read-back of `state` on a renderer of its own (no FrameInfo: the app draws and reports nothing). */
function fullFrame(app: App<unknown>, state: unknown, seq: number): Uint8Array {
  const r = new FrameRenderer();
  const frame = r.render(app.viewport(state), seq, (ctx) => app.render(state, ctx));
  return Uint8Array.from(frame.i420);
}

interface Run {
  frames: number;
  /** Share of the frame's rows read back, per incremental frame. */
  shares: number[];
}

/** The canvas's pixels (app area and stamp strip): what the tile display cuts its tiles from. */
function canvasPixels(r: FrameRenderer): Buffer {
  const c = r.canvas;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

function check(
  name: string,
  events: InputEvent[],
  opts: {
    width: number;
    height: number;
    skip?: (i: number) => boolean;
    /** Frames drawn for the tile display only (render's `convert` false): their canvas must be the full picture. */
    unconverted?: (i: number) => boolean;
  },
): Run {
  const app = getApp(name);
  let state = app.init({ width: opts.width, height: opts.height });
  const renderer = new FrameRenderer();
  const run: Run = { frames: 0, shares: [] };
  let seq = 0;
  for (const [i, event] of events.entries()) {
    seq++;
    state = app.apply(state, seqd(seq, event));
    if (opts.skip?.(i)) continue;
    const view = app.viewport(state);
    const info = renderer.nextFrame(view);
    const s = state;
    const convert = !opts.unconverted?.(i);
    const frame = renderer.render(view, seq, (ctx) => app.render(s, ctx, info), info, convert);
    run.frames++;
    if (!convert) {
      assert.equal(renderer.lastTimings.rows, 0, `${name} frame ${i}: nothing read back`);
      assert.equal(renderer.converted, false);
      const full = new FrameRenderer();
      full.render(view, seq, (ctx) => app.render(state, ctx));
      assert.ok(canvasPixels(renderer).equals(canvasPixels(full)), `${name} frame ${i}: canvas ≠ full`);
      continue;
    }
    if (info.over !== null) run.shares.push(renderer.lastTimings.rows / frame.height);
    const want = fullFrame(app, state, seq);
    assert.equal(frame.i420.length, want.length, `${name} frame ${i}: size`);
    assert.ok(
      Buffer.from(frame.i420).equals(Buffer.from(want)),
      `${name} frame ${i} (${event.type}): incremental ≠ full`,
    );
    if (i % 7 === 0) {
      const cold = app.restore(app.snapshot(state));
      assert.ok(
        Buffer.from(frame.i420).equals(Buffer.from(fullFrame(app, cold, seq))),
        `${name} frame ${i}: ≠ restored`,
      );
    }
  }
  return run;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 1;

test('writer: every incremental frame equals a full read-back; typing reads back a few rows', () => {
  const prose = typed('Lockstep keeps a session alive. ').concat([key('Enter')]);
  const events: InputEvent[] = [
    { type: 'paste', text: 'The quick brown fox jumps over the lazy dog. '.repeat(30) + '\n\nEnd.' },
    ...prose,
    ...typed('abc def ghi'),
    key('Backspace'),
    key('Backspace'),
    key('ArrowUp'),
    key('ArrowLeft', undefined, { ...NO_MODS, shift: true }),
    key('ArrowLeft', undefined, { ...NO_MODS, shift: true }),
    ...typed('x'),
    pointer('down', 120, 40),
    pointer('move', 300, 90),
    pointer('up', 300, 90),
    wheel(120),
    wheel(-48),
    ...typed('after scroll'),
    { type: 'resize', width: 500, height: 301 },
    ...typed('resized'),
    key('Enter'),
    ...typed('new paragraph'),
  ];
  const run = check('writer', events, { width: 640, height: 401, skip: (i) => i % 5 === 3 });
  assert.ok(run.frames > 40);
  assert.ok(median(run.shares) < 0.25, `typing read back ${median(run.shares)} of the rows`);
});

test('writer drawn for the tile display only at times: its canvas stays whole, and the next converted frame reads back all', () => {
  const events: InputEvent[] = [
    { type: 'paste', text: 'The quick brown fox jumps over the lazy dog. '.repeat(30) + '\n\nEnd.' },
    ...typed('Tiles alone, then video again. '),
    key('Backspace'),
    key('ArrowUp'),
    ...typed('x'),
    wheel(120),
    ...typed('after scroll'),
    { type: 'resize', width: 500, height: 301 },
    ...typed('resized'),
  ];
  // Runs of unconverted frames, each followed by converted ones that must equal a full read-back.
  const run = check('writer', events, { width: 640, height: 401, unconverted: (i) => i % 6 >= 2 && i % 6 <= 4 });
  assert.ok(run.frames > 30);
});

test('sheet: every incremental frame equals a full read-back; typing into a cell reads back a few rows', () => {
  const events: InputEvent[] = [
    ...typed('12'),
    key('Enter'),
    ...typed('30'),
    key('Enter'),
    ...typed('=SUM(A1:A2)'),
    key('Enter'),
    key('ArrowRight'),
    ...typed('text'),
    key('Tab'),
    ...typed('=1/0'),
    key('Enter'),
    key('ArrowDown', undefined, { ...NO_MODS, shift: true }),
    key('ArrowDown', undefined, { ...NO_MODS, shift: true }),
    pointer('down', 150, 120),
    pointer('move', 400, 250),
    pointer('up', 400, 250),
    ...typed('7'),
    key('Enter'),
    wheel(200),
    ...typed('scrolled'),
    key('Enter'),
    wheel(-400),
    { type: 'resize', width: 520, height: 333 },
    ...typed('99'),
    key('Enter'),
  ];
  const run = check('sheet', events, { width: 641, height: 401, skip: (i) => i % 6 === 4 });
  assert.ok(run.frames > 25);
  assert.ok(median(run.shares) < 0.35, `typing read back ${median(run.shares)} of the rows`);
});

/** A stroke through `points` (pairs), one pointer event each. */
function stroke(points: number[][]): InputEvent[] {
  const [first, ...rest] = points;
  const out: InputEvent[] = [pointer('down', first?.[0] ?? 0, first?.[1] ?? 0)];
  for (const [x, y] of rest) out.push(pointer('move', x ?? 0, y ?? 0));
  const last = points[points.length - 1];
  out.push(pointer('up', last?.[0] ?? 0, last?.[1] ?? 0));
  return out;
}

test('paint: every incremental frame equals a full read-back; a stroke in progress reads back a few rows', () => {
  const ctrl = { ...NO_MODS, ctrl: true };
  const events: InputEvent[] = [
    ...stroke([
      [100, 100],
      [110, 104],
      [125, 111],
      [140, 121],
      [160, 122],
      [190, 130],
      [220, 131],
    ]),
    ...stroke([[300, 200]]),
    key('2', '2'),
    key(']', ']'),
    ...stroke([
      [50, 300],
      [80, 290],
      [110, 280],
      [150, 250],
      [170, 251],
      [171, 252],
    ]),
    // Into the toolbar and the status bar, and off the surface.
    ...stroke([
      [200, 60],
      [220, 20],
      [240, 5],
      [260, 390],
      [280, 420],
      [700, 100],
    ]),
    key('z', 'z', ctrl),
    key('z', 'z', ctrl),
    key('z', 'z', { ...ctrl, shift: true }),
    key('e', 'e'),
    ...stroke([
      [120, 110],
      [130, 120],
      [140, 125],
    ]),
    key('e', 'e'),
    pointer('down', 20, 20),
    pointer('up', 20, 20),
    ...stroke([
      [400, 150],
      [410, 160],
    ]),
    key('Delete'),
    key('z', 'z', ctrl),
    ...stroke([
      [10, 200],
      [30, 210],
    ]),
    { type: 'resize', width: 500, height: 301 },
    ...stroke([
      [60, 100],
      [90, 140],
      [95, 150],
    ]),
  ];
  const run = check('paint', events, { width: 640, height: 401, skip: (i) => i % 6 === 5 });
  assert.ok(run.frames > 30);
  assert.ok(median(run.shares) < 0.35, `drawing read back ${median(run.shares)} of the rows`);
});
