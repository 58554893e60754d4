// The node's tile stream (render/tile-stream.ts) on a real node-canvas: tile
// rectangles from damage bands, a whole frame first after `on` and after a
// frame that could not be sent (never a delta over a picture the viewer does
// not hold), headers alone for unchanged pictures, nothing while off; every
// message decodable, tiles real PNGs of their rectangles.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { createCanvas, loadImage } from 'canvas';
import { decodeTileMessage, type TileMessage } from '../../protocol/tile-frame.js';
import { tileRects, TileStream } from '../../render/tile-stream.js';

const VIEW = { width: 320, height: 201 };

test('tileRects: bands clipped to the app area and cut to 64 rows, full width; null is the whole area', () => {
  assert.deepEqual(tileRects([{ top: 10, bottom: 40 }], VIEW), [{ x: 0, y: 10, width: 320, height: 30 }]);
  assert.deepEqual(
    tileRects([{ top: 190, bottom: 202 }], VIEW),
    [{ x: 0, y: 190, width: 320, height: 11 }],
    'an even band past an odd height is clipped',
  );
  const whole = tileRects(null, VIEW);
  assert.deepEqual(
    whole.map((r) => [r.y, r.height]),
    [
      [0, 64],
      [64, 64],
      [128, 64],
      [192, 9],
    ],
  );
  assert.deepEqual(tileRects([], VIEW), []);
});

/** Waits for the stream's queued messages (encodes are async). */
const settle = () => new Promise((r) => setTimeout(r, 200));

function harness(open = () => true) {
  const sent: TileMessage[] = [];
  const stream = new TileStream((m) => {
    if (!open()) return false;
    sent.push(decodeTileMessage(m));
    return true;
  });
  const canvas = createCanvas(VIEW.width, VIEW.height + 16);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  return { sent, stream, canvas, ctx };
}

test('off: nothing is sent; on: the first frame goes whole, then damage bands, then headers alone', async () => {
  const { sent, stream, canvas, ctx } = harness();
  stream.frame(canvas, VIEW, 1, [{ top: 0, bottom: 20 }]);
  stream.repeat(1);
  await settle();
  assert.equal(sent.length, 0, 'off');
  stream.setOn(true);
  stream.frame(canvas, VIEW, 2, [{ top: 0, bottom: 20 }]);
  ctx.fillStyle = '#000';
  ctx.fillRect(10, 30, 50, 10);
  stream.frame(canvas, VIEW, 3, [{ top: 30, bottom: 40 }]);
  stream.frame(canvas, VIEW, 4, []);
  stream.repeat(4);
  await settle();
  assert.deepEqual(
    sent.map((m) => [m.seq, m.whole, m.tiles.length]),
    [
      [2, true, 4],
      [3, false, 1],
      [4, false, 0],
      [4, false, 0],
    ],
  );
  const tile = sent[1]?.tiles[0];
  assert.ok(tile);
  assert.deepEqual([tile.x, tile.y, tile.width, tile.height], [10, 30, 50, 10], 'the band narrowed to what changed');
  const img = await loadImage(Buffer.from(tile.payload));
  assert.deepEqual([img.width, img.height], [50, 10], 'a real PNG of its rectangle');
  const check = createCanvas(50, 10).getContext('2d');
  check.drawImage(img, 0, 0);
  assert.deepEqual([...check.getImageData(10, 5, 1, 1).data], [0, 0, 0, 255], 'the damage drawn');
  assert.equal(stream.counters.wholeFrames, 1);
});

/** Draws every message's tiles, in order, into `into` (as viewer/tile-sink.ts does). */
async function drawAll(into: ReturnType<typeof createCanvas>, msgs: readonly TileMessage[]): Promise<void> {
  const ctx = into.getContext('2d');
  for (const m of msgs) for (const t of m.tiles) ctx.drawImage(await loadImage(Buffer.from(t.payload)), t.x, t.y);
}

test('narrowed deltas: an unchanged band sends no tile, and the drawn messages rebuild the picture exactly', async () => {
  const { sent, stream, canvas, ctx } = harness();
  stream.setOn(true);
  stream.frame(canvas, VIEW, 1, null);
  stream.frame(canvas, VIEW, 2, [{ top: 0, bottom: 100 }]);
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let seq = 3; seq < 40; seq++) {
    const bands: { top: number; bottom: number }[] = [];
    for (let k = rnd(3); k >= 0; k--) {
      const [x, y, w, h] = [rnd(300), rnd(190), 1 + rnd(40), 1 + rnd(30)];
      ctx.fillStyle = `rgb(${rnd(256)},${rnd(256)},${rnd(256)})`;
      ctx.fillRect(x, y, w, h);
      // The damage band is wider than the change (the renderer's rows), sometimes past the app area.
      bands.push({ top: Math.max(0, y - rnd(20)), bottom: y + h + rnd(20) });
    }
    stream.frame(canvas, VIEW, seq, bands);
  }
  await settle();
  assert.deepEqual(
    sent.slice(0, 2).map((m) => [m.seq, m.whole, m.tiles.length]),
    [
      [1, true, 4],
      [2, false, 0],
    ],
    'a band with nothing changed in it goes as a header alone',
  );
  assert.equal(sent.length, 39);
  const deltas = sent.slice(2).flatMap((m) => m.tiles);
  assert.ok(deltas.length > 0);
  assert.ok(
    deltas.every((t) => t.width <= 40 + 48 * 3 + 40),
    'every delta tile narrowed (no full-width band for a change of at most 40 columns)',
  );
  const rebuilt = createCanvas(VIEW.width, VIEW.height);
  await drawAll(rebuilt, sent);
  const want = ctx.getImageData(0, 0, VIEW.width, VIEW.height).data;
  const got = rebuilt.getContext('2d').getImageData(0, 0, VIEW.width, VIEW.height).data;
  assert.ok(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), 'the viewer picture equals the canvas');
});

test('a frame that could not be sent: the queued deltas behind it are dropped and the next frame goes whole', async () => {
  let open = true;
  const { sent, stream, canvas } = harness(() => open);
  stream.setOn(true);
  stream.frame(canvas, VIEW, 1, null);
  await settle();
  open = false;
  stream.frame(canvas, VIEW, 2, [{ top: 0, bottom: 10 }]);
  await settle();
  open = true;
  stream.repeat(2);
  stream.frame(canvas, VIEW, 3, [{ top: 0, bottom: 10 }]);
  stream.frame(canvas, VIEW, 4, [{ top: 0, bottom: 10 }]);
  await settle();
  assert.deepEqual(
    sent.map((m) => [m.seq, m.whole]),
    [
      [1, true],
      [3, true],
      [4, false],
    ],
  );
  assert.equal(stream.counters.dropped, 1);
});

test('on again (a new viewer) sends a whole frame after what was queued, in frame order', async () => {
  const { sent, stream, canvas } = harness();
  stream.setOn(true);
  stream.frame(canvas, VIEW, 1, null);
  stream.frame(canvas, VIEW, 2, [{ top: 0, bottom: 10 }]);
  stream.setOn(true);
  stream.frame(canvas, VIEW, 3, [{ top: 0, bottom: 10 }]);
  await settle();
  assert.deepEqual(
    sent.map((m) => [m.seq, m.whole]),
    [
      [1, true],
      [2, false],
      [3, true],
    ],
    'frame 2 is a delta over frame 1 for the viewers that hold it; a new one skips it (viewer/tile-order.ts)',
  );
});
