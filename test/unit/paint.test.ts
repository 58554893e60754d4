import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createCanvas, loadImage } from 'canvas';
import { NO_MODS, type ImportInput, type Modifiers } from '../../protocol/input.js';
import { stateHashOf } from '../../render/app-hash.js';
import { rgbaParts } from '../../server/image-import.js';
import { paintApp } from '../../render/apps/index.js';
import type { PaintState } from '../../render/apps/paint/index.js';
import { encodeSnapshot } from '../../render/apps/paint/snapshot.js';
import {
  countPoints,
  ERASER_INK,
  ERASER_WIDTHS,
  MAX_POINTS,
  PEN_WIDTHS,
  visibleStrokes,
} from '../../render/apps/paint/state.js';
import { STATUS_HEIGHT, statusText } from '../../render/apps/paint/status.js';
import { TOOLBAR_HEIGHT, TOOLBAR_ITEMS, type ToolbarAction } from '../../render/apps/paint/toolbar.js';
import { AppDriver, renderPixels } from '../helpers/app-driver.js';

type PointerType = 'mouse' | 'touch' | 'pen';

/** Drives the app the way a sequencer would: numbered inputs, sequencer-stamped time. */
class Session extends AppDriver<PaintState> {
  constructor(width = 800, height = 600) {
    super(paintApp, width, height);
  }

  pointer(action: 'down' | 'move' | 'up', x: number, y: number, pointerType: PointerType = 'mouse'): this {
    return this.send({
      type: 'pointer',
      action,
      x,
      y,
      button: 0,
      buttons: action === 'up' ? 0 : 1,
      mods: NO_MODS,
      pointerType,
    });
  }

  /** A whole stroke through `points`. */
  draw(points: readonly (readonly [number, number])[], pointerType: PointerType = 'mouse'): this {
    const [first, ...rest] = points;
    if (!first) return this;
    this.pointer('down', first[0], first[1], pointerType);
    for (const [x, y] of rest) this.pointer('move', x, y, pointerType);
    const last = rest[rest.length - 1] ?? first;
    return this.pointer('up', last[0], last[1], pointerType);
  }

  key(key: string, mods: Partial<Modifiers> = {}, code = ''): this {
    const base = { type: 'key' as const, key, code, mods: { ...NO_MODS, ...mods } };
    this.send({ ...base, action: 'down' });
    return this.send({ ...base, action: 'up' });
  }

  /** Clicks the centre of the toolbar item doing `action`. */
  click(action: ToolbarAction): this {
    const item = TOOLBAR_ITEMS.find((i) => JSON.stringify(i.action) === JSON.stringify(action));
    assert.ok(item, `no toolbar item for ${JSON.stringify(action)}`);
    this.pointer('down', item.x + item.w / 2, item.y + item.h / 2);
    return this.pointer('up', item.x + item.w / 2, item.y + item.h / 2);
  }

  get strokes() {
    return visibleStrokes(this.state);
  }
}

const pixels = (state: PaintState): Buffer => renderPixels(paintApp, state);

/** The drawing area only: between the toolbar and the status line. */
function board(state: PaintState): Buffer {
  const ctx = createCanvas(state.width, state.height).getContext('2d');
  paintApp.render(state, ctx);
  const h = state.height - TOOLBAR_HEIGHT - STATUS_HEIGHT;
  return Buffer.from(ctx.getImageData(0, TOOLBAR_HEIGHT, state.width, h).data.buffer);
}

function pixelAt(state: PaintState, x: number, y: number): [number, number, number] {
  const ctx = createCanvas(state.width, state.height).getContext('2d');
  paintApp.render(state, ctx);
  const d = ctx.getImageData(x, y, 1, 1).data;
  return [d[0] ?? -1, d[1] ?? -1, d[2] ?? -1];
}

describe('paint drawing', () => {
  test('a drag draws one stroke in the selected colour and size, points rounded', () => {
    const s = new Session().draw([
      [100.4, 200.6],
      [150, 200],
      [150.3, 200.2],
      [200, 250],
    ]);
    assert.equal(s.strokes.length, 1);
    const [stroke] = s.strokes;
    assert.equal(stroke?.ink, 0);
    assert.equal(stroke?.width, PEN_WIDTHS[1]);
    // (150.3, 200.2) rounds onto (150, 200): skipped, as is the up at the last point.
    assert.deepEqual(stroke?.points, [100, 201, 150, 200, 200, 250]);
    assert.equal(s.state.drawing, null);
    assert.equal(s.state.totalPoints, 3);
    assert.deepEqual(pixelAt(s.state, 150, 200), [0x1e, 0x1e, 0x1e]);
  });

  test('colour and size from keys and from the toolbar', () => {
    const s = new Session()
      .key('3')
      .key(']')
      .draw([
        [100, 100],
        [120, 120],
      ]);
    assert.equal(s.strokes[0]?.ink, 2);
    assert.equal(s.strokes[0]?.width, PEN_WIDTHS[2]);
    s.key('[').key('[').key('[').click({ kind: 'color', index: 5 });
    assert.equal(s.state.size, 0);
    s.click({ kind: 'size', index: 1 }).draw([
      [100, 300],
      [300, 300],
    ]);
    assert.equal(s.strokes[1]?.ink, 5);
    assert.equal(s.strokes[1]?.width, PEN_WIDTHS[1]);
    assert.deepEqual(pixelAt(s.state, 200, 300), [0x1c, 0x7e, 0xd6]);
    // AZERTY: the "1" key sends '&' with code Digit1.
    s.key('&', {}, 'Digit1');
    assert.equal(s.state.color, 0);
    s.key('9');
    assert.equal(s.state.color, 0);
  });

  test('toolbar clicks select and never draw, even when dragged into the board', () => {
    const s = new Session();
    for (const item of TOOLBAR_ITEMS) s.click(item.action);
    const colour = TOOLBAR_ITEMS.find((i) => i.action.kind === 'color' && i.action.index === 4);
    assert.ok(colour);
    s.pointer('down', colour.x + 5, colour.y + 5)
      .pointer('move', 300, 300)
      .pointer('up', 300, 300);
    assert.equal(s.strokes.length, 0);
    assert.equal(s.state.totalPoints, 0);
    assert.equal(s.state.color, 4);
    // Empty toolbar space and the status line do not draw either.
    s.draw([
      [790, 20],
      [500, 300],
    ]).draw([
      [300, 590],
      [400, 400],
    ]);
    assert.equal(s.strokes.length, 0);
    assert.ok(TOOLBAR_HEIGHT >= 36 && TOOLBAR_HEIGHT <= 48);
  });

  test('touch and pen pointers draw like the mouse; other buttons do not', () => {
    const s = new Session().draw(
      [
        [100, 100],
        [110, 140],
        [120, 180],
      ],
      'touch',
    );
    s.draw(
      [
        [300, 100],
        [310, 110],
      ],
      'pen',
    );
    assert.deepEqual(
      s.strokes.map((st) => st.points),
      [
        [100, 100, 110, 140, 120, 180],
        [300, 100, 310, 110],
      ],
    );
    s.send({ type: 'pointer', action: 'down', x: 400, y: 400, button: 2, buttons: 2, mods: NO_MODS });
    s.send({ type: 'pointer', action: 'move', x: 450, y: 450, button: 2, buttons: 2, mods: NO_MODS });
    assert.equal(s.state.drawing, null);
    assert.equal(s.strokes.length, 2);
  });

  test('a lost release ends the stroke: move without buttons, release-all, a new press', () => {
    const s = new Session().pointer('down', 100, 100).pointer('move', 150, 150);
    s.send({ type: 'pointer', action: 'move', x: 200, y: 200, button: 0, buttons: 0, mods: NO_MODS });
    assert.equal(s.state.drawing, null);
    assert.equal(s.strokes.length, 1);
    s.pointer('down', 100, 300).pointer('move', 120, 300).send({ type: 'release-all' });
    assert.equal(s.strokes.length, 2);
    s.pointer('down', 100, 400).pointer('down', 300, 400).pointer('up', 300, 400);
    assert.equal(s.strokes.length, 4);
  });

  test('a tap draws a dot', () => {
    const s = new Session().key(']').draw([[400, 300]]);
    assert.deepEqual(s.strokes[0]?.points, [400, 300]);
    assert.deepEqual(pixelAt(s.state, 400, 300), [0x1e, 0x1e, 0x1e]);
  });

  test('the eraser paints the background, wider, and leaves the pen colour alone', () => {
    const s = new Session().key(']').draw([
      [100, 200],
      [400, 200],
    ]);
    assert.deepEqual(pixelAt(s.state, 250, 200), [0x1e, 0x1e, 0x1e]);
    s.click({ kind: 'eraser' });
    assert.equal(s.state.tool, 'eraser');
    assert.match(statusText(s.state).left, /Eraser/);
    s.draw([
      [250, 150],
      [250, 250],
    ]);
    assert.equal(s.strokes[1]?.ink, ERASER_INK);
    assert.equal(s.strokes[1]?.width, ERASER_WIDTHS[2]);
    assert.deepEqual(pixelAt(s.state, 250, 200), [255, 255, 255]);
    assert.deepEqual(pixelAt(s.state, 150, 200), [0x1e, 0x1e, 0x1e]);
    // Picking a colour returns to the pen; 'e' toggles the eraser.
    s.key('2');
    assert.equal(s.state.tool, 'pen');
    s.key('e');
    assert.equal(s.state.tool, 'eraser');
    s.key('e');
    assert.equal(s.state.tool, 'pen');
    // Undoing the eraser stroke brings the ink back.
    s.key('z', { ctrl: true });
    assert.deepEqual(pixelAt(s.state, 250, 200), [0x1e, 0x1e, 0x1e]);
  });
});

describe('paint history', () => {
  const line = (y: number): [number, number][] => [
    [100, y],
    [300, y],
  ];

  test('undo and redo by keys and buttons; a new stroke drops the redo tail', () => {
    const s = new Session().draw(line(100)).draw(line(200)).draw(line(300));
    s.key('z', { ctrl: true });
    assert.equal(s.strokes.length, 2);
    s.click({ kind: 'undo' });
    assert.equal(s.strokes.length, 1);
    s.key('Z', { ctrl: true, shift: true });
    assert.equal(s.strokes.length, 2);
    s.key('y', { ctrl: true });
    assert.equal(s.strokes.length, 3);
    s.key('y', { ctrl: true }).key('z', { meta: true }).click({ kind: 'redo' });
    assert.equal(s.strokes.length, 3);
    for (let i = 0; i < 5; i++) s.key('z', { ctrl: true });
    assert.equal(s.strokes.length, 0);
    s.key('y', { ctrl: true }).draw(line(400));
    assert.deepEqual(
      s.strokes.map((st) => st.points[1]),
      [100, 400],
    );
    assert.equal(s.state.items.length, 2);
    assert.equal(s.state.totalPoints, 4);
    s.key('y', { ctrl: true });
    assert.equal(s.strokes.length, 2);
  });

  test('undo while drawing finishes the stroke, then undoes it', () => {
    const s = new Session().draw(line(100)).pointer('down', 100, 200).pointer('move', 200, 200);
    s.key('z', { ctrl: true });
    assert.equal(s.state.drawing, null);
    assert.equal(s.strokes.length, 1);
    s.pointer('move', 250, 200).pointer('up', 250, 200);
    assert.equal(s.strokes.length, 1);
  });

  test('clear (Delete or the button) is one undoable step; clearing nothing is a no-op', () => {
    const s = new Session().draw(line(100)).draw(line(200)).key('Delete');
    assert.equal(s.strokes.length, 0);
    assert.ok(board(s.state).equals(board(new Session().state)), 'a cleared board looks empty');
    s.key('Delete').click({ kind: 'clear' });
    assert.equal(s.state.items.length, 3);
    s.key('z', { ctrl: true });
    assert.equal(s.strokes.length, 2);
    s.draw(line(300)).click({ kind: 'clear' }).draw(line(400));
    assert.equal(s.strokes.length, 1);
    s.key('z', { ctrl: true }).key('z', { ctrl: true });
    assert.equal(s.strokes.length, 3);
  });

  test('AltGr (Ctrl+Alt) brackets change size, not history', () => {
    const s = new Session().draw(line(100)).key(']', { ctrl: true, alt: true });
    assert.equal(s.state.size, 2);
    assert.equal(s.strokes.length, 1);
  });
});

describe('paint surface and limits', () => {
  test('resize changes the surface; strokes outside it survive and reappear', () => {
    const s = new Session(800, 600).draw([
      [700, 300],
      [780, 300],
    ]);
    s.send({ type: 'resize', width: 400, height: 300 });
    assert.deepEqual(paintApp.viewport(s.state), { width: 400, height: 300 });
    assert.equal(pixels(s.state).length, 400 * 300 * 4);
    // The status line moved with the bottom edge: pressing there does not draw.
    s.draw([
      [200, 290],
      [250, 250],
    ]);
    assert.equal(s.strokes.length, 1);
    s.send({ type: 'resize', width: 1000, height: 700 });
    assert.deepEqual(pixelAt(s.state, 740, 300), [0x1e, 0x1e, 0x1e]);
    const restored = paintApp.restore(paintApp.snapshot(s.state));
    assert.ok(pixels(restored).equals(pixels(s.state)));
  });

  test('off-surface points are clamped, never unbounded', () => {
    const s = new Session().draw([
      [100, 100],
      [-99_999, 99_999],
    ]);
    assert.deepEqual(s.strokes[0]?.points, [100, 100, -1024, 5120]);
  });

  test('the point cap refuses new strokes, says so, and Clear lets drawing resume', () => {
    const s = new Session(1280, 720);
    // Zig-zag strokes of 1000 points each, built directly for speed, up to the cap.
    let n = 0;
    while (s.state.totalPoints < MAX_POINTS - 500) {
      s.pointer('down', 100, 100);
      for (let i = 1; i < 1000; i++) s.pointer('move', 100 + (i % 900), 100 + (i % 2) * 400 + (n % 50));
      s.pointer('up', 100, 100);
      n++;
    }
    // This stroke hits the cap part-way: it is cut short.
    s.pointer('down', 50, 50 + TOOLBAR_HEIGHT);
    for (let i = 1; i < 1000; i++) s.pointer('move', 50 + (i % 900), 60 + (i % 2) * 300);
    s.pointer('up', 50, 50);
    assert.equal(s.state.totalPoints, MAX_POINTS);
    assert.equal(s.state.full, true);
    const before = s.strokes.length;
    s.draw([
      [500, 500],
      [600, 600],
    ]);
    assert.equal(s.strokes.length, before, 'a stroke beyond the cap is refused');
    assert.match(statusText(s.state).right, /limit/i);
    assert.equal(countPoints(s.state.items, s.state.drawing), s.state.totalPoints);
    // A full board still snapshots and restores.
    const restored = paintApp.restore(paintApp.snapshot(s.state));
    assert.equal(restored.totalPoints, MAX_POINTS);
    assert.equal(restored.full, true);
    // Clear is undoable, so it frees nothing by itself; the next stroke forgets cleared history.
    s.key('Delete').draw([
      [500, 500],
      [600, 600],
    ]);
    assert.equal(s.strokes.length, 1);
    assert.equal(s.state.full, false);
    assert.equal(s.state.totalPoints, 2);
    assert.doesNotMatch(statusText(s.state).right, /limit/i);
  });

  test('undoing below the cap and drawing again frees the undone points', () => {
    const s = new Session();
    s.state.totalPoints = MAX_POINTS - 2; // pretend the board is nearly full
    s.draw([
      [100, 100],
      [200, 200],
      [300, 300],
      [400, 400],
    ]);
    assert.equal(s.strokes[0]?.points.length, 4, 'cut short at the cap');
    assert.equal(s.state.full, true);
    s.key('z', { ctrl: true }).draw([
      [100, 100],
      [200, 200],
    ]);
    assert.equal(s.state.full, false);
    assert.equal(s.strokes.length, 1);
  });
});

describe('paint snapshots', () => {
  function sample(): PaintState {
    return new Session()
      .key('4')
      .draw([
        [100, 100],
        [200, 150],
      ])
      .key('Delete')
      .draw([[300, 300]])
      .key('z', { ctrl: true })
      .key('e')
      .pointer('down', 400, 400)
      .pointer('move', 420, 410).state;
  }

  test('round trip: equal states give equal bytes, derived fields recomputed', () => {
    const s = sample();
    const bytes = paintApp.snapshot(s);
    const back = paintApp.restore(bytes);
    assert.deepEqual(paintApp.snapshot(back), bytes);
    assert.deepEqual(back, s);
    assert.ok(pixels(back).equals(pixels(s)));
    assert.equal(paintApp.restore(paintApp.snapshot(paintApp.init({ width: 640, height: 480 }))).width, 640);
  });

  test('restore rejects malformed data with a clear error', () => {
    const good = paintApp.snapshot(sample());
    const mutate = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    const cases: [string, Buffer, RegExp][] = [
      ['empty', Buffer.alloc(0), /bad magic|too short/],
      ['JSON', Buffer.from('{"app":"paint","v":1,"width":800,"height":600}'), /bad magic/],
      ['version', mutate((b) => b.writeUInt8(9, 3)), /version 9/],
      ['width', mutate((b) => b.writeUInt16LE(10, 4)), /width 10/],
      ['tool', mutate((b) => b.writeUInt8(7, 8)), /tool/],
      ['color', mutate((b) => b.writeUInt8(8, 9)), /color 8/],
      ['size', mutate((b) => b.writeUInt8(3, 10)), /size 3/],
      ['flags', mutate((b) => b.writeUInt8(0x80, 11)), /flags/],
      ['huge item count', mutate((b) => b.writeUInt32LE(0xffffffff, 12)), /item count/],
      ['applied', mutate((b) => b.writeUInt32LE(99, 16)), /applied/],
      ['truncated', good.subarray(0, good.length - 3), /truncated/],
      ['trailing', Buffer.concat([good, Buffer.from([0])]), /trailing/],
      ['item kind', mutate((b) => b.writeUInt8(5, 20)), /unknown kind/],
      ['ink', mutate((b) => b.writeUInt8(42, 21)), /ink 42/],
      ['brush width', mutate((b) => b.writeUInt8(7, 22)), /width 7/],
      ['no points', mutate((b) => b.writeUInt32LE(0, 23)), /at least one point/],
      ['point range', mutate((b) => b.writeInt16LE(-30_000, 27)), /out of range/],
      ['repeated point', mutate((b) => b.writeInt32LE(b.readInt32LE(27), 31)), /repeated point/],
    ];
    for (const [name, data, message] of cases) {
      assert.throws(
        () => paintApp.restore(data),
        (err: unknown) => err instanceof Error && /^paint snapshot: /.test(err.message) && message.test(err.message),
        name,
      );
    }
  });

  test('restore rejects a clear with nothing to clear and an over-cap point total', () => {
    const base = paintApp.init({ width: 800, height: 600 });
    assert.throws(
      () => paintApp.restore(Buffer.from(encodeSnapshot({ ...base, items: [{ kind: 'clear' }], applied: 1 }))),
      /nothing to clear/,
    );
    const points = Array.from({ length: (MAX_POINTS + 1) * 2 }, (_, i) => (i % 4 < 2 ? i % 1000 : 0));
    const over = Buffer.from(
      encodeSnapshot({
        ...base,
        items: [{ kind: 'stroke', stroke: { ink: 0, width: 6, points } }],
        applied: 1,
      }),
    );
    assert.throws(() => paintApp.restore(over), /more than 200000 points/);
  });
});

describe('paint background (an imported image)', () => {
  /** A w×h RGBA gradient (opaque), as the server would log it. */
  function gradient(w: number, h: number): Uint8Array {
    const px = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) px.set([(i % w) * 3, Math.floor(i / w) * 2, 200, 255], i * 4);
    return px;
  }
  const imported = (w: number, h: number, px = gradient(w, h), max = 6000): Session => {
    const s = new Session(320, 240);
    for (const part of rgbaParts({ width: w, height: h }, px, max)) s.send(part);
    return s;
  };
  const rgbaAt = (state: PaintState, x: number, y: number): number[] => {
    const ctx = createCanvas(state.width, state.height).getContext('2d');
    paintApp.render(state, ctx);
    return [...ctx.getImageData(x, y, 1, 1).data];
  };

  test('parts fill the background under the strokes; clear keeps it, the eraser paints paper over it', () => {
    const px = gradient(80, 120);
    const s = imported(80, 120, px);
    assert.ok(s.state.background);
    assert.ok(Buffer.from(s.state.background.pixels).equals(Buffer.from(px)));
    assert.deepEqual(rgbaAt(s.state, 10, 60), [30, 120, 200, 255]);
    assert.deepEqual(rgbaAt(s.state, 100, 60), [255, 255, 255, 255], 'the paper beside the image');
    s.draw([
      [5, 60],
      [60, 60],
    ]);
    assert.deepEqual(rgbaAt(s.state, 30, 60).slice(0, 3), [0x1e, 0x1e, 0x1e], 'a stroke on top');
    s.key('Delete');
    assert.deepEqual(rgbaAt(s.state, 30, 60), [90, 120, 200, 255], 'clear hides strokes, not the image');
    s.key('e').draw([
      [5, 100],
      [60, 100],
    ]);
    assert.deepEqual(rgbaAt(s.state, 30, 100), [255, 255, 255, 255]);
  });

  test('rendering an imported board matches a reference: the image pixels, then strokes', () => {
    const s = imported(64, 64);
    const ref = createCanvas(320, 240).getContext('2d');
    ref.fillStyle = '#ffffff';
    ref.fillRect(0, 0, 320, 240);
    const img = ref.createImageData(64, 64);
    img.data.set(gradient(64, 64));
    ref.putImageData(img, 0, 0);
    const ctx = createCanvas(320, 240).getContext('2d');
    paintApp.render(s.state, ctx);
    const h = 240 - TOOLBAR_HEIGHT - STATUS_HEIGHT;
    assert.ok(
      Buffer.from(ctx.getImageData(0, TOOLBAR_HEIGHT, 320, h).data).equals(
        Buffer.from(ref.getImageData(0, TOOLBAR_HEIGHT, 320, h).data),
      ),
    );
  });

  test('a cached raster gives the same pixels as a cold render at every part', () => {
    const warm = new Session(320, 240);
    const parts = rgbaParts({ width: 100, height: 90 }, gradient(100, 90), 4000);
    warm.draw([
      [50, 50],
      [150, 80],
    ]);
    for (const part of parts) {
      warm.send(part);
      const cold = paintApp.restore(paintApp.snapshot(warm.state));
      assert.ok(pixels(warm.state).equals(pixels(cold)), `after the part at row ${part.row}`);
    }
    assert.ok(parts.length > 3);
  });

  test('snapshot and restore carry the background: same bytes, same hash, same pixels', () => {
    const s = imported(90, 70).draw([
      [20, 50],
      [70, 90],
    ]);
    const bytes = paintApp.snapshot(s.state);
    const back = paintApp.restore(bytes);
    assert.ok(paintApp.snapshot(back).equals(bytes));
    assert.equal(stateHashOf(paintApp.snapshot(back)), stateHashOf(bytes));
    assert.ok(pixels(back).equals(pixels(s.state)));
    // The same parts in the same order give the same state on another replica, whatever its part boundaries were.
    assert.equal(
      stateHashOf(paintApp.snapshot(imported(90, 70, gradient(90, 70), 3000).state)),
      stateHashOf(paintApp.snapshot(imported(90, 70).state)),
    );
    // A board without an image is smaller by the image and still round-trips.
    assert.equal(
      bytes.length -
        paintApp.snapshot(
          new Session(320, 240).draw([
            [20, 50],
            [70, 90],
          ]).state,
        ).length,
      90 * 70 * 4,
    );
    // Truncated pixels and an out-of-range size are refused.
    assert.throws(
      () => paintApp.restore(bytes.subarray(0, bytes.length - 1)),
      /truncated while reading background pixels/,
    );
    const sizeAt = bytes.length - 90 * 70 * 4 - 4;
    const wide = Buffer.from(bytes);
    wide.writeUInt16LE(5000, sizeAt);
    assert.throws(() => paintApp.restore(wide), /background size 5000×70 out of range/);
  });

  test('parts paint cannot read are ignored, not thrown on', () => {
    const s = new Session(320, 240);
    const before = paintApp.snapshot(s.state);
    const [part] = rgbaParts({ width: 8, height: 4 }, gradient(8, 4));
    assert.ok(part);
    const odd: ImportInput[] = [
      { type: 'import', format: 'txt', row: 0, data: 'hello' },
      { type: 'import', format: 'csv', row: 0, data: 'a,b\r\n' },
      { ...part, data: part.data.slice(0, -4) },
      { ...part, row: 3 },
      { ...part, data: '####' },
      { ...part, width: 5000 },
    ];
    for (const ev of odd) s.send(ev);
    assert.ok(paintApp.snapshot(s.state).equals(before));
    assert.equal(s.state.background, null);
  });

  test('the .png export holds the image', async () => {
    const s = imported(80, 120);
    const doc = paintApp.exportDocument?.(s.state, 'png');
    const img = await loadImage(doc?.bytes ?? Buffer.alloc(0));
    const ctx = createCanvas(320, 240).getContext('2d');
    ctx.drawImage(img, 0, 0);
    assert.deepEqual([...ctx.getImageData(10, 60, 1, 1).data], [30, 120, 200, 255]);
    assert.ok(Buffer.from(ctx.getImageData(0, 0, 320, 240).data).equals(pixels(s.state)));
  });
});
