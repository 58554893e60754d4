// The whiteboard's whole state. Every number is an integer (points are whole
// pixels), so snapshots are canonical and strokes rasterize the same everywhere.

/** Palette: digits 1–8 and the toolbar swatches pick these, by index. */
export const PALETTE: readonly { readonly name: string; readonly css: string }[] = [
  { name: 'Black', css: '#1e1e1e' },
  { name: 'Red', css: '#e03131' },
  { name: 'Orange', css: '#f76707' },
  { name: 'Yellow', css: '#f5b700' },
  { name: 'Green', css: '#2f9e44' },
  { name: 'Blue', css: '#1c7ed6' },
  { name: 'Violet', css: '#7048e8' },
  { name: 'Grey', css: '#868e96' },
];
export const BACKGROUND = '#ffffff';
/** Ink of eraser strokes: they paint the background colour (simpler than hit-testing strokes). */
export const ERASER_INK = PALETTE.length;

/** Line widths per brush size index, for the pen and (wider) for the eraser. */
export const PEN_WIDTHS: readonly number[] = [2, 6, 14];
export const ERASER_WIDTHS: readonly number[] = [10, 24, 48];

/** Points stored across the whole history (undo included): bounds memory and snapshot size. */
export const MAX_POINTS = 200_000;
/** Points are clamped to this range: lines may leave the surface, but never unboundedly. */
export const COORD_MIN = -1024;
export const COORD_MAX = 5120;

export type Tool = 'pen' | 'eraser';

export interface Stroke {
  /** Palette index, or ERASER_INK. */
  readonly ink: number;
  /** Line width in whole pixels. */
  readonly width: number;
  /** Flat x,y pairs in whole pixels; consecutive points always differ. Frozen once committed. */
  readonly points: number[];
}

/** One undoable step: a stroke, or a clear that hides everything before it. */
export type HistoryItem = { readonly kind: 'stroke'; readonly stroke: Stroke } | { readonly kind: 'clear' };

/**
 * An imported image under the strokes, at the board's top-left. The server decoded and fitted it; its rows
 * arrive as `import` parts of straight RGBA bytes. Rows not yet imported are transparent (the paper shows).
 * Clear hides strokes, not the image; the eraser paints the paper colour over it.
 */
export interface Background {
  readonly width: number;
  readonly height: number;
  /** width × height × 4 bytes, row by row. */
  readonly pixels: Uint8Array;
  /** Derived: counts the parts applied (not in snapshots), so the render cache knows when to refresh. */
  revision: number;
}

export interface PaintState {
  /** Viewport in CSS pixels (changes only through resize inputs). */
  width: number;
  height: number;
  tool: Tool;
  /** Palette index of the pen. */
  color: number;
  /** Index into PEN_WIDTHS / ERASER_WIDTHS. */
  size: number;
  /** Linear history; items[0..applied) are in effect, the rest can be redone. */
  items: HistoryItem[];
  applied: number;
  /** The stroke under the pointer, committed on release. */
  drawing: Stroke | null;
  /** The last stroke was refused or cut short by MAX_POINTS (shown in the status line). */
  full: boolean;
  /** Derived: points in `items` plus `drawing` (not in snapshots; recomputed on restore). */
  totalPoints: number;
  background: Background | null;
}

export function initialState(width: number, height: number): PaintState {
  return {
    width,
    height,
    tool: 'pen',
    color: 0,
    size: 1,
    items: [],
    applied: 0,
    drawing: null,
    full: false,
    totalPoints: 0,
    background: null,
  };
}

export function strokeWidth(tool: Tool, size: number): number {
  return (tool === 'eraser' ? ERASER_WIDTHS : PEN_WIDTHS)[size] ?? 1;
}

export function inkColor(ink: number): string {
  return PALETTE[ink]?.css ?? BACKGROUND;
}

export function pointCount(stroke: Stroke): number {
  return stroke.points.length / 2;
}

export function countPoints(items: readonly HistoryItem[], drawing: Stroke | null): number {
  let n = drawing ? pointCount(drawing) : 0;
  for (const item of items) if (item.kind === 'stroke') n += pointCount(item.stroke);
  return n;
}

/** Index of the first item shown: just after the last clear in effect. */
export function visibleStart(state: PaintState): number {
  for (let i = state.applied - 1; i >= 0; i--) if (state.items[i]?.kind === 'clear') return i + 1;
  return 0;
}

/** Committed strokes on the board, bottom to top. */
export function visibleStrokes(state: PaintState): Stroke[] {
  const out: Stroke[] = [];
  for (let i = visibleStart(state); i < state.applied; i++) {
    const item = state.items[i];
    if (item?.kind === 'stroke') out.push(item.stroke);
  }
  return out;
}
