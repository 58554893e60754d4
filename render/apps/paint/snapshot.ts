// Canonical snapshot bytes: a compact little-endian binary (points dominate,
// at 4 bytes each), with a magic and a version. Restore validates everything,
// because a snapshot may come from another host.
//
// Layout: "PNT" u8 version | u16 width | u16 height | u8 tool | u8 color |
// u8 size | u8 flags (1 full, 2 drawing) | u32 items | u32 applied |
// items (u8 kind: 0 stroke, 1 clear) | the drawing stroke if flagged |
// (version 2) u16 background width | u16 background height | its RGBA bytes
// (0 × 0 and no bytes: no background). Version 1 (no background) still restores.
// A stroke is u8 ink | u8 width | u32 points | points × (i16 x, i16 y).
import { SURFACE_LIMITS } from '../../sdk/index.js';
import { backgroundSizeOk } from './background.js';
import {
  COORD_MAX,
  COORD_MIN,
  ERASER_INK,
  ERASER_WIDTHS,
  MAX_POINTS,
  PALETTE,
  PEN_WIDTHS,
  type HistoryItem,
  type PaintState,
  type Stroke,
} from './state.js';

export const SNAPSHOT_VERSION = 2;
const MAGIC = 'PNT';
const HEADER_BYTES = 20;
const FLAG_FULL = 1;
const FLAG_DRAWING = 2;
const KIND_STROKE = 0;
const KIND_CLEAR = 1;

function strokeBytes(s: Stroke): number {
  return 6 + s.points.length * 2;
}

export function encodeSnapshot(s: PaintState): Uint8Array {
  let size = HEADER_BYTES + s.items.length;
  for (const item of s.items) if (item.kind === 'stroke') size += strokeBytes(item.stroke);
  if (s.drawing) size += strokeBytes(s.drawing);
  size += 4 + (s.background?.pixels.length ?? 0);
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  let o = 0;
  for (let i = 0; i < MAGIC.length; i++) buf[o++] = MAGIC.charCodeAt(i);
  const u8 = (v: number): void => view.setUint8(o++, v);
  const u16 = (v: number): void => {
    view.setUint16(o, v, true);
    o += 2;
  };
  const u32 = (v: number): void => {
    view.setUint32(o, v, true);
    o += 4;
  };
  u8(SNAPSHOT_VERSION);
  u16(s.width);
  u16(s.height);
  u8(s.tool === 'eraser' ? 1 : 0);
  u8(s.color);
  u8(s.size);
  u8((s.full ? FLAG_FULL : 0) | (s.drawing ? FLAG_DRAWING : 0));
  u32(s.items.length);
  u32(s.applied);
  const writeStroke = (stroke: Stroke): void => {
    u8(stroke.ink);
    u8(stroke.width);
    u32(stroke.points.length / 2);
    for (const v of stroke.points) {
      view.setInt16(o, v, true);
      o += 2;
    }
  };
  for (const item of s.items) {
    u8(item.kind === 'stroke' ? KIND_STROKE : KIND_CLEAR);
    if (item.kind === 'stroke') writeStroke(item.stroke);
  }
  if (s.drawing) writeStroke(s.drawing);
  u16(s.background?.width ?? 0);
  u16(s.background?.height ?? 0);
  if (s.background) {
    buf.set(s.background.pixels, o);
    o += s.background.pixels.length;
  }
  if (o !== size) throw new Error(`paint snapshot: wrote ${o} bytes, expected ${size}`);
  return buf;
}

class SnapshotError extends Error {
  constructor(message: string) {
    super(`paint snapshot: ${message}`);
    this.name = 'SnapshotError';
  }
}

/** Bounds-checked reads: a short buffer is a clear error, not a RangeError. */
class Reader {
  #o = 0;
  #total = 0;
  readonly #view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #need(n: number, what: string): number {
    if (this.#o + n > this.buf.length) throw new SnapshotError(`truncated while reading ${what} at byte ${this.#o}`);
    const at = this.#o;
    this.#o += n;
    return at;
  }
  skip(n: number, what: string): void {
    this.#need(n, what);
  }
  bytes(n: number, what: string): Uint8Array {
    const at = this.#need(n, what);
    return this.buf.slice(at, at + n);
  }
  u8(what: string): number {
    return this.#view.getUint8(this.#need(1, what));
  }
  u16(what: string): number {
    return this.#view.getUint16(this.#need(2, what), true);
  }
  u32(what: string): number {
    return this.#view.getUint32(this.#need(4, what), true);
  }
  i16(what: string): number {
    return this.#view.getInt16(this.#need(2, what), true);
  }
  get done(): boolean {
    return this.#o === this.buf.length;
  }
  get offset(): number {
    return this.#o;
  }

  stroke(what: string): Stroke {
    const ink = this.u8(`${what} ink`);
    if (ink > ERASER_INK) throw new SnapshotError(`${what}: ink ${ink} is not a palette colour or the eraser`);
    const width = this.u8(`${what} width`);
    if (!(ink === ERASER_INK ? ERASER_WIDTHS : PEN_WIDTHS).includes(width))
      throw new SnapshotError(`${what}: width ${width} is not a brush width`);
    const count = this.u32(`${what} point count`);
    if (count < 1) throw new SnapshotError(`${what}: a stroke needs at least one point`);
    this.#total += count;
    if (this.#total > MAX_POINTS) throw new SnapshotError(`more than ${MAX_POINTS} points`);
    const points: number[] = [];
    for (let i = 0; i < count; i++) {
      const x = this.i16(`${what} point`);
      const y = this.i16(`${what} point`);
      if (x < COORD_MIN || x > COORD_MAX || y < COORD_MIN || y > COORD_MAX)
        throw new SnapshotError(`${what}: point (${x}, ${y}) is out of range`);
      if (i > 0 && points[points.length - 2] === x && points[points.length - 1] === y)
        throw new SnapshotError(`${what}: repeated point (${x}, ${y})`);
      points.push(x, y);
    }
    return { ink, width, points };
  }
  get totalPoints(): number {
    return this.#total;
  }
}

export function decodeSnapshot(data: Uint8Array): PaintState {
  if (!(data instanceof Uint8Array)) throw new SnapshotError('expected bytes (a Uint8Array)');
  const r = new Reader(data);
  if (data.length < HEADER_BYTES || String.fromCharCode(data[0] ?? 0, data[1] ?? 0, data[2] ?? 0) !== MAGIC)
    throw new SnapshotError('not a paint snapshot (bad magic or too short)');
  r.skip(MAGIC.length, 'magic');
  const version = r.u8('version');
  if (version !== 1 && version !== SNAPSHOT_VERSION) throw new SnapshotError(`unsupported version ${version}`);
  const width = r.u16('width');
  const height = r.u16('height');
  if (width < SURFACE_LIMITS.minWidth || width > SURFACE_LIMITS.maxWidth)
    throw new SnapshotError(`width ${width} out of range`);
  if (height < SURFACE_LIMITS.minHeight || height > SURFACE_LIMITS.maxHeight)
    throw new SnapshotError(`height ${height} out of range`);
  const toolByte = r.u8('tool');
  if (toolByte > 1) throw new SnapshotError(`unknown tool ${toolByte}`);
  const color = r.u8('color');
  if (color >= PALETTE.length) throw new SnapshotError(`color ${color} out of range`);
  const size = r.u8('size');
  if (size >= PEN_WIDTHS.length) throw new SnapshotError(`size ${size} out of range`);
  const flags = r.u8('flags');
  if ((flags & ~(FLAG_FULL | FLAG_DRAWING)) !== 0) throw new SnapshotError(`unknown flags ${flags}`);
  const itemCount = r.u32('item count');
  const applied = r.u32('applied');
  // Each item takes at least one byte: a huge count in a short buffer fails here, before any work.
  if (itemCount > data.length - HEADER_BYTES) throw new SnapshotError(`item count ${itemCount} exceeds the data`);
  if (applied > itemCount) throw new SnapshotError(`applied ${applied} exceeds item count ${itemCount}`);

  const items: HistoryItem[] = [];
  let strokesSinceClear = 0;
  for (let i = 0; i < itemCount; i++) {
    const kind = r.u8(`item ${i} kind`);
    if (kind === KIND_STROKE) {
      items.push({ kind: 'stroke', stroke: r.stroke(`item ${i}`) });
      strokesSinceClear++;
    } else if (kind === KIND_CLEAR) {
      // Clearing an empty board is a no-op, so a clear always hides at least one stroke.
      if (strokesSinceClear === 0) throw new SnapshotError(`item ${i}: a clear with nothing to clear`);
      items.push({ kind: 'clear' });
      strokesSinceClear = 0;
    } else {
      throw new SnapshotError(`item ${i}: unknown kind ${kind}`);
    }
  }
  const drawing = (flags & FLAG_DRAWING) !== 0 ? r.stroke('drawing') : null;
  // A stroke in progress means the redo tail was already dropped when it began.
  if (drawing && applied !== itemCount) throw new SnapshotError('a stroke in progress with a redo tail');
  let background: PaintState['background'] = null;
  if (version >= 2) {
    const bw = r.u16('background width');
    const bh = r.u16('background height');
    if (bw !== 0 || bh !== 0) {
      if (!backgroundSizeOk(bw, bh)) throw new SnapshotError(`background size ${bw}×${bh} out of range`);
      background = { width: bw, height: bh, pixels: r.bytes(bw * bh * 4, 'background pixels'), revision: 0 };
    }
  }
  if (!r.done) throw new SnapshotError(`${data.length - r.offset} trailing bytes`);
  return {
    width,
    height,
    tool: toolByte === 1 ? 'eraser' : 'pen',
    color,
    size,
    items,
    applied,
    drawing,
    full: (flags & FLAG_FULL) !== 0,
    totalPoints: r.totalPoints,
    background,
  };
}
