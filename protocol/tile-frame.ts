// The tile display's wire format (issue #18 point 6): what a shown replica's
// node sends on its display channel (a mediasoup data channel, ordered and
// reliable) per rendered frame, instead of the viewer decoding its video. One
// binary message carries the frame's seq, the app size, and the damaged
// rectangles of the app area as PNG tiles; a whole frame (when a subscription
// starts, on a resize, when the damage covers most of the area) is flagged;
// a frame over the message bound goes as several parts; a message without tiles says "same picture,
// this seq" (a restamp or a keepalive). Both ends use this module (the viewer
// gets it bundled). The decoder trusts nothing: a message that is not exactly
// a header and `count` tiles inside the app area it names, within LIMITS, each
// a PNG whose header declares exactly its rectangle (so no tile decodes to more
// pixels than it covers), is a TileFrameError, never a partial draw.
//
// Layout (little-endian), 16-byte header then the tiles:
//   u8 version (2) | u8 format (1 = PNG) | u8 flags (bit 0: whole frame) | u8 part
//   u16 count | u16 width | u16 height | u8 parts | u8 0 | u32 seq
//   count × ( u16 x | u16 y | u16 width | u16 height | u32 length | length bytes )
import { LIMITS } from './limits.js';

export const TILE_VERSION = 2;
/** PNG: decoded off the main thread with createImageBitmap (the spike found it cheaper on the page than deflate). */
export const TILE_FORMAT_PNG = 1;
const FLAG_WHOLE = 1;
export const TILE_HEADER_BYTES = 16;
export const TILE_RECT_BYTES = 12;

export interface TileRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Tile extends TileRect {
  payload: Uint8Array;
}

export interface TileHeader {
  /** The applied seq the picture shows once this message is drawn (the node's claim, as its stamp is). */
  seq: number;
  /** The app area's size (the stamp strip of the video path is not part of it). */
  width: number;
  height: number;
  /** A whole frame: with its parts 0..parts-1 drawn, the picture no longer depends on earlier messages. */
  whole: boolean;
  /** A frame too large for one message goes as parts (in order); the picture shows `seq` once the last is drawn. */
  part: number;
  parts: number;
}

export interface TileMessage extends TileHeader {
  tiles: Tile[];
}

export class TileFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TileFrameError';
  }
}

const u16 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff;

function checkHeader(h: TileHeader): void {
  if (!Number.isInteger(h.seq) || h.seq < 0 || h.seq > 0xffffffff) throw new TileFrameError(`bad seq ${h.seq}`);
  if (!u16(h.width) || !u16(h.height) || h.width < LIMITS.minViewport || h.height < LIMITS.minViewport)
    throw new TileFrameError(`app size ${h.width}x${h.height} below the smallest viewport`);
  if (h.width > LIMITS.maxViewportWidth || h.height > LIMITS.maxViewportHeight)
    throw new TileFrameError(`app size ${h.width}x${h.height} above the largest viewport`);
  if (!Number.isInteger(h.parts) || h.parts < 1 || h.parts > LIMITS.maxTileParts)
    throw new TileFrameError(`${h.parts} parts (1 to ${LIMITS.maxTileParts})`);
  if (!Number.isInteger(h.part) || h.part < 0 || h.part >= h.parts)
    throw new TileFrameError(`part ${h.part} of ${h.parts}`);
}

function checkTile(t: TileRect, h: TileHeader): void {
  if (![t.x, t.y, t.width, t.height].every(u16) || t.width === 0 || t.height === 0)
    throw new TileFrameError(`tile ${t.width}x${t.height} at ${t.x},${t.y} is not a rectangle`);
  if (t.x + t.width > h.width || t.y + t.height > h.height)
    throw new TileFrameError(`tile ${t.width}x${t.height} at ${t.x},${t.y} leaves the ${h.width}x${h.height} app area`);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Signature, then the IHDR chunk's length and type, then its width and height (big-endian). */
const PNG_SIZE_END = 24;

/**
 * The width and height a PNG's header (its first chunk, IHDR) declares, or null when `payload` does not start
 * as a PNG. Read before anything decodes it: a few hundred kB of PNG can declare gigapixels.
 */
export function pngSize(payload: Uint8Array): { width: number; height: number } | null {
  if (payload.byteLength < PNG_SIZE_END || PNG_SIGNATURE.some((b, i) => payload[i] !== b)) return null;
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  // IHDR: 13 bytes of data, type "IHDR".
  if (dv.getUint32(8) !== 13 || dv.getUint32(12) !== 0x49484452) return null;
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** A tile's PNG must declare exactly its rectangle: the viewer decodes nothing larger than the app area. */
function checkPayload(t: Tile, i: number): void {
  const size = pngSize(t.payload);
  if (!size) throw new TileFrameError(`tile ${i} is not a PNG`);
  if (size.width !== t.width || size.height !== t.height)
    throw new TileFrameError(`tile ${i}: a ${size.width}x${size.height} PNG in a ${t.width}x${t.height} rectangle`);
}

/** The message's bytes; throws TileFrameError for anything the decoder would refuse. */
export function encodeTileMessage(msg: TileMessage): Uint8Array {
  checkHeader(msg);
  if (msg.tiles.length > LIMITS.maxTilesPerMessage)
    throw new TileFrameError(`${msg.tiles.length} tiles (at most ${LIMITS.maxTilesPerMessage})`);
  const size = msg.tiles.reduce((n, t) => n + TILE_RECT_BYTES + t.payload.byteLength, TILE_HEADER_BYTES);
  if (size > LIMITS.maxTileMessageBytes)
    throw new TileFrameError(`${size} bytes (at most ${LIMITS.maxTileMessageBytes})`);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, TILE_VERSION);
  dv.setUint8(1, TILE_FORMAT_PNG);
  dv.setUint8(2, msg.whole ? FLAG_WHOLE : 0);
  dv.setUint8(3, msg.part);
  dv.setUint16(4, msg.tiles.length, true);
  dv.setUint16(6, msg.width, true);
  dv.setUint16(8, msg.height, true);
  dv.setUint8(10, msg.parts);
  dv.setUint32(12, msg.seq, true);
  let at = TILE_HEADER_BYTES;
  for (const t of msg.tiles) {
    checkTile(t, msg);
    dv.setUint16(at, t.x, true);
    dv.setUint16(at + 2, t.y, true);
    dv.setUint16(at + 4, t.width, true);
    dv.setUint16(at + 6, t.height, true);
    dv.setUint32(at + 8, t.payload.byteLength, true);
    out.set(t.payload, at + TILE_RECT_BYTES);
    at += TILE_RECT_BYTES + t.payload.byteLength;
  }
  return out;
}

/** The message in `bytes`, every tile inside the app area it names; payloads are views into `bytes`. */
export function decodeTileMessage(bytes: Uint8Array): TileMessage {
  if (bytes.byteLength > LIMITS.maxTileMessageBytes)
    throw new TileFrameError(`${bytes.byteLength} bytes (at most ${LIMITS.maxTileMessageBytes})`);
  if (bytes.byteLength < TILE_HEADER_BYTES)
    throw new TileFrameError(`${bytes.byteLength} bytes: shorter than a header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint8(0);
  if (version !== TILE_VERSION) throw new TileFrameError(`version ${version} (expected ${TILE_VERSION})`);
  const format = dv.getUint8(1);
  if (format !== TILE_FORMAT_PNG) throw new TileFrameError(`unknown tile format ${format}`);
  const flags = dv.getUint8(2);
  if ((flags & ~FLAG_WHOLE) !== 0) throw new TileFrameError(`unknown flags ${flags}`);
  if (dv.getUint8(11) !== 0) throw new TileFrameError('reserved header byte set');
  const header: TileHeader = {
    seq: dv.getUint32(12, true),
    width: dv.getUint16(6, true),
    height: dv.getUint16(8, true),
    whole: (flags & FLAG_WHOLE) !== 0,
    part: dv.getUint8(3),
    parts: dv.getUint8(10),
  };
  checkHeader(header);
  const count = dv.getUint16(4, true);
  if (count > LIMITS.maxTilesPerMessage)
    throw new TileFrameError(`${count} tiles (at most ${LIMITS.maxTilesPerMessage})`);
  const tiles: Tile[] = [];
  let at = TILE_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + TILE_RECT_BYTES > bytes.byteLength) throw new TileFrameError(`tile ${i} header past the end`);
    const t = {
      x: dv.getUint16(at, true),
      y: dv.getUint16(at + 2, true),
      width: dv.getUint16(at + 4, true),
      height: dv.getUint16(at + 6, true),
    };
    checkTile(t, header);
    const length = dv.getUint32(at + 8, true);
    const start = at + TILE_RECT_BYTES;
    if (length === 0) throw new TileFrameError(`tile ${i} has no payload`);
    if (length > bytes.byteLength - start)
      throw new TileFrameError(`tile ${i} payload of ${length} bytes past the end`);
    const tile = { ...t, payload: bytes.subarray(start, start + length) };
    checkPayload(tile, i);
    tiles.push(tile);
    at = start + length;
  }
  if (at !== bytes.byteLength) throw new TileFrameError(`${bytes.byteLength - at} bytes after the last tile`);
  return { ...header, tiles };
}

/**
 * One frame's tiles as messages within LIMITS.maxTileMessageBytes (more than one: parts, in order), each
 * carrying `frame`'s header. A tile too large for a message on its own is a TileFrameError (the sender cuts
 * its rectangles smaller); so is a frame that would need more than LIMITS.maxTileParts parts.
 */
export function packTileFrame(frame: Omit<TileHeader, 'part' | 'parts'>, tiles: readonly Tile[]): Uint8Array[] {
  const groups: Tile[][] = [[]];
  let bytes = TILE_HEADER_BYTES;
  for (const t of tiles) {
    const size = TILE_RECT_BYTES + t.payload.byteLength;
    if (TILE_HEADER_BYTES + size > LIMITS.maxTileMessageBytes)
      throw new TileFrameError(`a ${t.width}x${t.height} tile of ${t.payload.byteLength} bytes fits no message`);
    const group = groups[groups.length - 1] ?? [];
    if (group.length > 0 && (bytes + size > LIMITS.maxTileMessageBytes || group.length >= LIMITS.maxTilesPerMessage)) {
      groups.push([t]);
      bytes = TILE_HEADER_BYTES + size;
    } else {
      group.push(t);
      bytes += size;
    }
  }
  if (groups.length > LIMITS.maxTileParts)
    throw new TileFrameError(`${groups.length} parts (at most ${LIMITS.maxTileParts})`);
  return groups.map((g, part) => encodeTileMessage({ ...frame, part, parts: groups.length, tiles: g }));
}
