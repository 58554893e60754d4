// The viewer's tile stream rules (viewer/tile-order.ts): nothing is drawn
// before a whole frame starts, a whole frame must be full-width bands from the
// top in ordered parts, the seq shows once a frame's last part is drawn, deltas
// keep the picture's size, seqs never go back; every breach a TileOrderError.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { TileHeader, TileRect } from '../../protocol/tile-frame.js';
import { TileOrder, TileOrderError } from '../../viewer/tile-order.js';

const W = 640;
const H = 360;
const head = (seq: number, o: Partial<TileHeader> = {}): TileHeader => ({
  seq,
  width: W,
  height: H,
  whole: false,
  part: 0,
  parts: 1,
  ...o,
});
const band = (y: number, height: number, width = W): TileRect => ({ x: 0, y, width, height });
const wholeBands = (rows: number[]): TileRect[] => {
  let y = 0;
  return rows.map((h) => {
    const b = band(y, h);
    y += h;
    return b;
  });
};

function synced(seq = 10): TileOrder {
  const o = new TileOrder();
  o.accept(head(seq, { whole: true }), wholeBands([H]));
  return o;
}

test('deltas before the first whole frame are skipped; the whole frame syncs and shows its seq', () => {
  const o = new TileOrder();
  assert.deepEqual(o.accept(head(3), [band(0, 24)]), { draw: false, shows: null });
  assert.equal(o.synced, false);
  assert.equal(o.shownSeq, null);
  assert.deepEqual(o.accept(head(4, { whole: true }), wholeBands([64, 64, 64, 64, 64, 40])), { draw: true, shows: 4 });
  assert.equal(o.synced, true);
  assert.deepEqual(o.size, { width: W, height: H });
  assert.deepEqual(o.accept(head(5), [band(100, 24, 200)]), { draw: true, shows: 5 });
  assert.deepEqual(o.accept(head(5), []), { draw: true, shows: 5 }, 'a keepalive: same seq, no tiles');
  assert.equal(o.shownSeq, 5);
});

test('a whole frame in parts shows its seq only at its last part', () => {
  const o = new TileOrder();
  const rows = wholeBands([120, 120, 120]);
  assert.deepEqual(o.accept(head(7, { whole: true, parts: 3 }), [rows[0]!]), { draw: true, shows: null });
  assert.deepEqual(o.accept(head(7, { whole: true, part: 1, parts: 3 }), [rows[1]!]), { draw: true, shows: null });
  assert.equal(o.synced, false);
  assert.deepEqual(o.accept(head(7, { whole: true, part: 2, parts: 3 }), [rows[2]!]), { draw: true, shows: 7 });
  assert.equal(o.synced, true);
});

test('parts out of order, of another frame, or a part before its first are refused', () => {
  const refuse = (o: TileOrder, h: TileHeader, rects: TileRect[], re: RegExp) =>
    assert.throws(
      () => o.accept(h, rects),
      (e: unknown) => e instanceof TileOrderError && re.test(e.message),
    );
  refuse(new TileOrder(), head(7, { whole: true, part: 1, parts: 2 }), [], /before its first/);
  const o = new TileOrder();
  o.accept(head(7, { whole: true, parts: 3 }), [band(0, 120)]);
  refuse(o, head(7, { whole: true, part: 2, parts: 3 }), [band(120, 120)], /part 1 of 7 was due/);
  const p = new TileOrder();
  p.accept(head(7, { whole: true, parts: 2 }), [band(0, 120)]);
  refuse(p, head(8, { whole: true, part: 1, parts: 2 }), [band(120, 240)], /was due/);
  const q = new TileOrder();
  q.accept(head(7, { whole: true, parts: 2 }), [band(0, 120)]);
  refuse(q, head(7, { whole: true, part: 1, parts: 2, width: 800 }), [band(120, 240, 800)], /in a 640x360 frame/);
});

test('a whole frame that does not cover the app area in bands from the top is refused', () => {
  const refuse = (rects: TileRect[], re: RegExp) =>
    assert.throws(
      () => new TileOrder().accept(head(1, { whole: true }), rects),
      (e: unknown) => e instanceof TileOrderError && re.test(e.message),
    );
  refuse([band(0, 200)], /ends at row 200/);
  refuse([band(0, 100), band(120, 240)], /bands from the top/);
  refuse([band(0, 360, 320)], /bands from the top/);
  refuse([{ x: 2, y: 0, width: 638, height: 360 }], /bands from the top/);
  refuse([], /ends at row 0/);
});

test('seqs never go back; a delta of another size than the picture is refused; a whole frame resizes', () => {
  const o = synced(10);
  assert.throws(() => o.accept(head(9), []), TileOrderError);
  const p = synced(10);
  assert.throws(() => p.accept(head(11, { width: 800 }), [band(0, 24, 800)]), /delta over a 640x360 picture/);
  const r = synced(10);
  assert.deepEqual(r.accept(head(11, { whole: true, width: 800, height: 600 }), [band(0, 600, 800)]), {
    draw: true,
    shows: 11,
  });
  assert.deepEqual(r.size, { width: 800, height: 600 });
  assert.deepEqual(r.accept(head(12, { width: 800, height: 600 }), [band(0, 24, 800)]), { draw: true, shows: 12 });
});
