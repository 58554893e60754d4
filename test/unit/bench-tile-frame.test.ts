// The tile-display spike's wire format (bench/lib/tile-frame.ts): round trips,
// the canvas bounds, and hostile messages (truncated, oversized, trailing
// bytes, tiles outside the canvas, lying lengths) rejected whole with a
// TileFrameError; and the narrowing of damage bands to their columns.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  bandRects,
  checkRawSize,
  decodeTileMessage,
  encodeTileMessage,
  MAX_TILES,
  TileFrameError,
  type TileMessage,
} from '../../bench/lib/tile-frame.js';

const BOUNDS = { width: 1280, height: 720 };

function message(): TileMessage {
  return {
    seq: 4_000_000_000,
    format: 'deflate-rgba',
    tiles: [
      { x: 0, y: 0, width: 1280, height: 16, payload: new Uint8Array([1, 2, 3]) },
      { x: 1278, y: 718, width: 2, height: 2, payload: new Uint8Array(0) },
      { x: 100, y: 200, width: 50, height: 60, payload: new Uint8Array([9, 8, 7, 6, 5]) },
    ],
  };
}

const rejects = (bytes: Uint8Array, pattern: RegExp) =>
  assert.throws(
    () => decodeTileMessage(bytes, BOUNDS),
    (err: unknown) => err instanceof TileFrameError && pattern.test(err.message),
  );

test('a message round-trips: seq, format, every tile and its payload bytes', () => {
  const msg = message();
  const back = decodeTileMessage(encodeTileMessage(msg, BOUNDS), BOUNDS);
  assert.equal(back.seq, msg.seq);
  assert.equal(back.format, 'deflate-rgba');
  assert.deepEqual(
    back.tiles.map((t) => ({ ...t, payload: [...t.payload] })),
    msg.tiles.map((t) => ({ ...t, payload: [...t.payload] })),
  );
  const png = decodeTileMessage(encodeTileMessage({ seq: 0, format: 'png', tiles: [] }, BOUNDS), BOUNDS);
  assert.deepEqual(png, { seq: 0, format: 'png', tiles: [] });
});

test('a message inside a larger buffer decodes from its own view', () => {
  const bytes = encodeTileMessage(message(), BOUNDS);
  const big = new Uint8Array(bytes.byteLength + 10);
  big.set(bytes, 5);
  assert.equal(decodeTileMessage(big.subarray(5, 5 + bytes.byteLength), BOUNDS).tiles.length, 3);
});

test('every truncation of a valid message is rejected, none half-decoded', () => {
  const bytes = encodeTileMessage(message(), BOUNDS);
  for (let n = 0; n < bytes.byteLength; n++) rejects(bytes.subarray(0, n), /./);
});

test('trailing bytes, unknown versions and formats, too many tiles are rejected', () => {
  const bytes = encodeTileMessage(message(), BOUNDS);
  const trailing = new Uint8Array(bytes.byteLength + 1);
  trailing.set(bytes);
  rejects(trailing, /after the last tile/);
  const v = bytes.slice();
  v[0] = 2;
  rejects(v, /version 2/);
  const f = bytes.slice();
  f[1] = 9;
  rejects(f, /unknown tile format 9/);
  const many = bytes.slice();
  new DataView(many.buffer).setUint16(2, MAX_TILES + 1, true);
  rejects(many, /tiles \(at most/);
});

test('a payload length past the end (a u32 lie) is rejected', () => {
  const bytes = encodeTileMessage(message(), BOUNDS);
  const lie = bytes.slice();
  new DataView(lie.buffer).setUint32(8 + 8, 0xffffffff, true);
  rejects(lie, /past the end/);
});

test('tiles leaving the canvas or of no area are rejected by both ends', () => {
  const one = (x: number, y: number, width: number, height: number): TileMessage => ({
    seq: 1,
    format: 'png',
    tiles: [{ x, y, width, height, payload: new Uint8Array(1) }],
  });
  for (const [x, y, w, h] of [
    [1279, 0, 2, 1],
    [0, 719, 1, 2],
    [0, 0, 0, 5],
    [0, 0, 5, 0],
  ] as const) {
    assert.throws(() => encodeTileMessage(one(x, y, w, h), BOUNDS), TileFrameError);
    // Forged by a sender that skips the checks: the decoder still refuses it.
    const forged = encodeTileMessage(one(0, 0, 1, 1), BOUNDS);
    const dv = new DataView(forged.buffer);
    dv.setUint16(8, x, true);
    dv.setUint16(10, y, true);
    dv.setUint16(12, w, true);
    dv.setUint16(14, h, true);
    rejects(forged, /not a rectangle|leaves the 1280x720 canvas/);
  }
  assert.throws(() => encodeTileMessage(one(0.5, 0, 1, 1), BOUNDS), TileFrameError);
  assert.throws(() => encodeTileMessage({ ...one(0, 0, 1, 1), seq: -1 }, BOUNDS), TileFrameError);
});

test('a raw tile must inflate to exactly its RGBA size', () => {
  checkRawSize({ width: 3, height: 2 }, 24);
  assert.throws(() => checkRawSize({ width: 3, height: 2 }, 23), TileFrameError);
  assert.throws(() => checkRawSize({ width: 3, height: 2 }, 1 << 30), TileFrameError);
});

test('bands narrow to the even columns of the rectangles crossing them; a band none crosses stays whole', () => {
  const rects = [
    { x: 101, y: 10, width: 20, height: 5 },
    { x: 300, y: 12, width: 9.5, height: 2 },
    { x: 0, y: 100, width: 1280, height: 4 },
  ];
  const bands = [
    { top: 10, bottom: 16 },
    { top: 100, bottom: 104 },
    { top: 400, bottom: 402 },
  ];
  assert.deepEqual(bandRects(rects, bands, 1280), [
    { x: 100, y: 10, width: 210, height: 6 },
    { x: 0, y: 100, width: 1280, height: 4 },
    { x: 0, y: 400, width: 1280, height: 2 },
  ]);
  // Clipped to the frame: a rectangle hanging off the right edge ends at the edge.
  assert.deepEqual(bandRects([{ x: 1275, y: 0, width: 50, height: 2 }], [{ top: 0, bottom: 2 }], 1279), [
    { x: 1274, y: 0, width: 5, height: 2 },
  ]);
});
