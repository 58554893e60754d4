// The tile-display spike's wire format (bench/tile-display.ts): one binary
// message per rendered frame, carrying the frame's damaged rectangles as
// encoded tiles the page draws into its canvas (no video). Both ends use this
// module (the page gets it bundled), and the decoder trusts nothing: a message
// that is not exactly a header and `count` tiles inside the canvas is a
// TileFrameError, never a partial draw.
//
// Layout (little-endian):
//   u8 version (1) | u8 format | u16 count | u32 seq
//   count × ( u16 x | u16 y | u16 width | u16 height | u32 length | length bytes )
import type { RowBand } from '../../render/frame-damage.js';

export const TILE_VERSION = 1;
/** PNG (decoded with createImageBitmap, drawn with drawImage) or raw RGBA deflated (zlib; putImageData). */
export const TILE_FORMATS = { png: 1, 'deflate-rgba': 2 } as const;
export type TileFormat = keyof typeof TILE_FORMATS;
/** More tiles than this in one frame is not a frame this path sends (damage is capped to a few bands). */
export const MAX_TILES = 64;
const HEADER = 8;
const TILE_HEADER = 12;

export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
  payload: Uint8Array;
}

export interface TileMessage {
  seq: number;
  format: TileFormat;
  tiles: Tile[];
}

export interface CanvasBounds {
  width: number;
  height: number;
}

export class TileFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TileFrameError';
  }
}

function formatOf(code: number): TileFormat {
  for (const [name, c] of Object.entries(TILE_FORMATS)) if (c === code) return name as TileFormat;
  throw new TileFrameError(`unknown tile format ${code}`);
}

function checkTile(t: { x: number; y: number; width: number; height: number }, bounds: CanvasBounds): void {
  const ints = [t.x, t.y, t.width, t.height].every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffff);
  if (!ints || t.width === 0 || t.height === 0)
    throw new TileFrameError(`tile ${t.width}x${t.height} at ${t.x},${t.y} is not a rectangle`);
  if (t.x + t.width > bounds.width || t.y + t.height > bounds.height)
    throw new TileFrameError(
      `tile ${t.width}x${t.height} at ${t.x},${t.y} leaves the ${bounds.width}x${bounds.height} canvas`,
    );
}

export function encodeTileMessage(msg: TileMessage, bounds: CanvasBounds): Uint8Array {
  if (!Number.isInteger(msg.seq) || msg.seq < 0 || msg.seq > 0xffffffff) throw new TileFrameError(`bad seq ${msg.seq}`);
  if (msg.tiles.length > MAX_TILES) throw new TileFrameError(`${msg.tiles.length} tiles (at most ${MAX_TILES})`);
  const size = msg.tiles.reduce((n, t) => n + TILE_HEADER + t.payload.byteLength, HEADER);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, TILE_VERSION);
  dv.setUint8(1, TILE_FORMATS[msg.format]);
  dv.setUint16(2, msg.tiles.length, true);
  dv.setUint32(4, msg.seq, true);
  let at = HEADER;
  for (const t of msg.tiles) {
    checkTile(t, bounds);
    dv.setUint16(at, t.x, true);
    dv.setUint16(at + 2, t.y, true);
    dv.setUint16(at + 4, t.width, true);
    dv.setUint16(at + 6, t.height, true);
    dv.setUint32(at + 8, t.payload.byteLength, true);
    out.set(t.payload, at + TILE_HEADER);
    at += TILE_HEADER + t.payload.byteLength;
  }
  return out;
}

/** The message in `bytes`, every tile inside `bounds`; payloads are views into `bytes`. */
export function decodeTileMessage(bytes: Uint8Array, bounds: CanvasBounds): TileMessage {
  if (bytes.byteLength < HEADER) throw new TileFrameError(`${bytes.byteLength} bytes: shorter than a header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint8(0);
  if (version !== TILE_VERSION) throw new TileFrameError(`version ${version} (expected ${TILE_VERSION})`);
  const format = formatOf(dv.getUint8(1));
  const count = dv.getUint16(2, true);
  if (count > MAX_TILES) throw new TileFrameError(`${count} tiles (at most ${MAX_TILES})`);
  const seq = dv.getUint32(4, true);
  const tiles: Tile[] = [];
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + TILE_HEADER > bytes.byteLength) throw new TileFrameError(`tile ${i} header past the end`);
    const t = {
      x: dv.getUint16(at, true),
      y: dv.getUint16(at + 2, true),
      width: dv.getUint16(at + 4, true),
      height: dv.getUint16(at + 6, true),
    };
    checkTile(t, bounds);
    const length = dv.getUint32(at + 8, true);
    const start = at + TILE_HEADER;
    if (length > bytes.byteLength - start)
      throw new TileFrameError(`tile ${i} payload of ${length} bytes past the end`);
    tiles.push({ ...t, payload: bytes.subarray(start, start + length) });
    at = start + length;
  }
  if (at !== bytes.byteLength) throw new TileFrameError(`${bytes.byteLength - at} bytes after the last tile`);
  return { seq, format, tiles };
}

/** A deflate-rgba tile's inflated size must be exactly its rectangle's RGBA (else: hostile or broken). */
export function checkRawSize(tile: Pick<Tile, 'width' | 'height'>, inflated: number): void {
  const want = tile.width * tile.height * 4;
  if (inflated !== want)
    throw new TileFrameError(`raw tile ${tile.width}x${tile.height} inflated to ${inflated} bytes (want ${want})`);
}

/**
 * The rectangles to send for `bands` (render/frame-damage.ts's checked rows of the app's damage `rects`): each
 * band narrowed to the columns its rectangles cover, widened to even columns. `rects` must be the report that
 * damageBands accepted (finite rectangles); a band no rectangle crosses (there is none) keeps the full width.
 */
export function bandRects(
  rects: ReadonlyArray<{ x: number; y: number; width: number; height: number }>,
  bands: readonly RowBand[],
  width: number,
): Array<{ x: number; y: number; width: number; height: number }> {
  return bands.map((b) => {
    let left = width;
    let right = 0;
    for (const r of rects) {
      if (r.y >= b.bottom || r.y + r.height <= b.top || r.width <= 0 || r.height <= 0) continue;
      left = Math.min(left, Math.max(0, Math.floor(r.x)));
      right = Math.max(right, Math.min(width, Math.ceil(r.x + r.width)));
    }
    if (right <= left) return { x: 0, y: b.top, width, height: b.bottom - b.top };
    left -= left % 2;
    right = Math.min(width, right + (right % 2));
    return { x: left, y: b.top, width: right - left, height: b.bottom - b.top };
  });
}
