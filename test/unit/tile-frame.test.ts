// The tile display's wire format (protocol/tile-frame.ts): round trips, parts,
// the LIMITS bounds, and hostile messages (truncated, oversized, trailing
// bytes, unknown version/format/flags, tiles outside the app area they name,
// lying lengths, empty payloads, payloads that are not a PNG of exactly their
// rectangle's size) refused whole with a TileFrameError.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LIMITS } from '../../protocol/limits.js';
import {
  decodeTileMessage,
  encodeTileMessage,
  packTileFrame,
  pngSize,
  TILE_HEADER_BYTES,
  TileFrameError,
  type TileMessage,
} from '../../protocol/tile-frame.js';

/** The start of a PNG declaring `width` x `height` (signature and IHDR), padded with `fill` to `bytes`. */
function png(width: number, height: number, bytes = 33, fill = 0): Uint8Array {
  const out = new Uint8Array(Math.max(bytes, 33)).fill(fill);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, 13);
  out.set([0x49, 0x48, 0x44, 0x52], 12); // IHDR
  dv.setUint32(16, width);
  dv.setUint32(20, height);
  out.set([8, 6, 0, 0, 0], 24); // 8-bit RGBA, no interlace
  return out;
}

function message(): TileMessage {
  return {
    seq: 4_000_000_000,
    width: 1280,
    height: 720,
    whole: false,
    part: 0,
    parts: 1,
    tiles: [
      { x: 0, y: 0, width: 1280, height: 16, payload: png(1280, 16, 40, 3) },
      { x: 1278, y: 718, width: 2, height: 2, payload: png(2, 2) },
      { x: 100, y: 200, width: 50, height: 60, payload: png(50, 60, 37, 5) },
    ],
  };
}

const refuses = (bytes: Uint8Array, pattern: RegExp) =>
  assert.throws(
    () => decodeTileMessage(bytes),
    (err: unknown) => err instanceof TileFrameError && pattern.test(err.message),
  );

const plain = (m: TileMessage) => ({ ...m, tiles: m.tiles.map((t) => ({ ...t, payload: [...t.payload] })) });

test('a message round-trips: header, every tile and its payload bytes; a header alone too', () => {
  const msg = message();
  assert.deepEqual(plain(decodeTileMessage(encodeTileMessage(msg))), plain(msg));
  const same = { ...msg, seq: 7, tiles: [] };
  assert.deepEqual(decodeTileMessage(encodeTileMessage(same)), same);
  const part = { ...msg, whole: true, part: 2, parts: 3 };
  assert.deepEqual(plain(decodeTileMessage(encodeTileMessage(part))), plain(part));
});

test('a message inside a larger buffer decodes from its own view', () => {
  const bytes = encodeTileMessage(message());
  const big = new Uint8Array(bytes.byteLength + 10);
  big.set(bytes, 5);
  assert.equal(decodeTileMessage(big.subarray(5, 5 + bytes.byteLength)).tiles.length, 3);
});

test('every truncation of a valid message is refused, none half-decoded; so are trailing bytes', () => {
  const bytes = encodeTileMessage(message());
  for (let n = 0; n < bytes.byteLength; n++) refuses(bytes.subarray(0, n), /./);
  const longer = new Uint8Array(bytes.byteLength + 1);
  longer.set(bytes);
  refuses(longer, /bytes after the last tile/);
});

test('bad headers are refused: version, format, flags, reserved byte, sizes, parts', () => {
  const bytes = encodeTileMessage(message());
  const patched = (at: number, value: number, wide = false) => {
    const b = bytes.slice();
    const dv = new DataView(b.buffer);
    if (wide) dv.setUint16(at, value, true);
    else dv.setUint8(at, value);
    return b;
  };
  refuses(patched(0, 1), /version 1/);
  refuses(patched(1, 2), /unknown tile format 2/);
  refuses(patched(2, 2), /unknown flags/);
  refuses(patched(11, 1), /reserved/);
  refuses(patched(6, 10, true), /below the smallest viewport/);
  refuses(patched(6, LIMITS.maxViewportWidth + 2, true), /above the largest viewport/);
  refuses(patched(10, 0), /0 parts/);
  refuses(patched(10, LIMITS.maxTileParts + 1), /parts/);
  refuses(patched(3, 1), /part 1 of 1/);
  refuses(patched(4, LIMITS.maxTilesPerMessage + 1, true), /tiles \(at most/);
});

test('tiles outside the app area, empty ones, empty payloads and lying lengths are refused', () => {
  const small = { ...message(), width: 640, height: 360 };
  assert.throws(() => encodeTileMessage(small), TileFrameError, 'the encoder checks too');
  const bytes = encodeTileMessage(message());
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const smaller = bytes.slice();
  dv(smaller).setUint16(6, 1279, true); // the first tile is 1280 wide
  refuses(smaller, /leaves the 1279x720 app area/);
  const empty = bytes.slice();
  dv(empty).setUint16(TILE_HEADER_BYTES + 4, 0, true);
  refuses(empty, /not a rectangle/);
  const lying = bytes.slice();
  dv(lying).setUint32(TILE_HEADER_BYTES + 8, 0xffffffff, true);
  refuses(lying, /past the end/);
  const none = encodeTileMessage({
    ...message(),
    tiles: [{ x: 0, y: 0, width: 2, height: 2, payload: new Uint8Array(0) }],
  });
  refuses(none, /no payload/);
});

test('a tile whose PNG declares another size than its rectangle, or that is no PNG, is refused before decoding', () => {
  const one = (payload: Uint8Array): TileMessage => ({
    ...message(),
    tiles: [{ x: 0, y: 0, width: 64, height: 64, payload }],
  });
  assert.equal(decodeTileMessage(encodeTileMessage(one(png(64, 64)))).tiles.length, 1);
  // A few hundred bytes of PNG may declare gigapixels: the viewer would decode them all before comparing sizes.
  refuses(encodeTileMessage(one(png(60_000, 60_000))), /tile 0: a 60000x60000 PNG in a 64x64 rectangle/);
  refuses(encodeTileMessage(one(png(64, 65))), /64x65 PNG in a 64x64/);
  refuses(encodeTileMessage(one(new Uint8Array(40).fill(7))), /tile 0 is not a PNG/);
  const ihdrLater = png(64, 64);
  ihdrLater.set([0x49, 0x44, 0x41, 0x54], 12); // IDAT first: not a PNG's start
  refuses(encodeTileMessage(one(ihdrLater)), /not a PNG/);
  refuses(encodeTileMessage(one(png(64, 64).subarray(0, 23))), /not a PNG/);
  assert.deepEqual(pngSize(png(3, 4)), { width: 3, height: 4 });
});

test('a message over LIMITS.maxTileMessageBytes is refused before it is read, and never encoded', () => {
  refuses(new Uint8Array(LIMITS.maxTileMessageBytes + 1), /at most/);
  const big = {
    ...message(),
    tiles: [{ x: 0, y: 0, width: 8, height: 8, payload: new Uint8Array(LIMITS.maxTileMessageBytes) }],
  };
  assert.throws(() => encodeTileMessage(big), TileFrameError);
});

test('packTileFrame: one message while it fits, else ordered parts under the bound, each decodable', () => {
  const frame = { seq: 9, width: 1280, height: 720, whole: true };
  const band = (y: number, bytes: number) => ({
    x: 0,
    y,
    width: 1280,
    height: 64,
    payload: png(1280, 64, bytes, y),
  });
  const one = packTileFrame(frame, [band(0, 1000), band(64, 1000)]);
  assert.equal(one.length, 1);
  const tiles = Array.from({ length: 10 }, (_, i) => band(i * 64, 60_000));
  const parts = packTileFrame(frame, tiles).map((m) => decodeTileMessage(m));
  assert.ok(parts.length > 1);
  parts.forEach((p, i) => {
    assert.equal(p.part, i);
    assert.equal(p.parts, parts.length);
    assert.equal(p.seq, 9);
    assert.equal(p.whole, true);
  });
  assert.deepEqual(
    parts.flatMap((p) => p.tiles.map((t) => t.y)),
    tiles.map((t) => t.y),
    'every tile, in order',
  );
  assert.deepEqual(
    packTileFrame({ ...frame, whole: false }, []).map((m) => decodeTileMessage(m).tiles.length),
    [0],
  );
  assert.throws(() => packTileFrame(frame, [band(0, LIMITS.maxTileMessageBytes)]), /fits no message/);
});
