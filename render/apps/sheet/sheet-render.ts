// Draws the sheet: formula bar, headers, grid, selection, cell values
// (numbers right-aligned, errors in red) and the cell being edited. Text is
// placed with the font's own advance widths, never the host's measureText.
// Each frame names its parts (the formula bar, each row's band) with what
// their pixels depend on, and the scroll position and column widths, which
// move everything, as one part over the whole surface (sdk/damage.ts).
import {
  DamageTracker,
  loadFont,
  type DrawingContext,
  type Font,
  type FrameInfo,
  type FramePart,
  type Rect,
} from '../../sdk/index.js';
import { computeAll, display, type Value } from './formula.js';
import {
  BAR_HEIGHT,
  colLeft,
  FONT_PX,
  GRID_TOP,
  HEADER_HEIGHT,
  ROW_HEADER_WIDTH,
  ROW_HEIGHT,
  rowTop,
  visibleCols,
  visibleRows,
} from './layout.js';
import { keyOf, nameOf, selectionOf, type SheetState } from './state.js';

const COLORS = {
  page: '#ffffff',
  bar: '#f8f9fa',
  header: '#f1f3f4',
  headerText: '#5f6368',
  grid: '#e0e0e0',
  text: '#202124',
  error: '#c5221f',
  selection: '#e8f0fe',
  cursor: '#1a73e8',
} as const;

let font: Font | null = null;
const sheetFont = (): Font => (font ??= loadFont('Lockstep Sans'));

/** Width of `text` in pixels at FONT_PX, from the font's advance table. */
export function textWidth(text: string): number {
  const m = sheetFont().metrics;
  let units = 0;
  for (const ch of text) units += m.advanceOf(ch.codePointAt(0) ?? 0) ?? m.unitsPerEm * 0.6;
  return (units * FONT_PX) / m.unitsPerEm;
}

/** Text starting at `x`, on the middle line of the box (left, top, w, h) and clipped to it. */
function clippedText(
  ctx: DrawingContext,
  text: string,
  x: number,
  left: number,
  top: number,
  w: number,
  h: number,
): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, w, h);
  ctx.clip();
  ctx.fillText(text, Math.round(x), top + Math.round(h / 2) + 5);
  ctx.restore();
}

function drawBar(ctx: DrawingContext, s: SheetState): void {
  ctx.fillStyle = COLORS.bar;
  ctx.fillRect(0, 0, s.width, BAR_HEIGHT);
  ctx.fillStyle = COLORS.grid;
  ctx.fillRect(0, BAR_HEIGHT - 1, s.width, 1);
  ctx.fillRect(64, 4, 1, BAR_HEIGHT - 8);
  ctx.fillStyle = COLORS.text;
  clippedText(ctx, nameOf(s.cursor), 10, 0, 0, 64, BAR_HEIGHT);
  const content = s.edit ?? s.cells.get(keyOf(s.cursor)) ?? '';
  clippedText(ctx, s.edit !== null ? `${content}|` : content, 76, 66, 0, s.width - 66, BAR_HEIGHT);
}

function drawHeaders(ctx: DrawingContext, s: SheetState, cols: number, rows: number): void {
  ctx.fillStyle = COLORS.header;
  ctx.fillRect(0, BAR_HEIGHT, s.width, HEADER_HEIGHT);
  ctx.fillRect(0, GRID_TOP, ROW_HEADER_WIDTH, s.height - GRID_TOP);
  ctx.fillStyle = COLORS.headerText;
  for (let c = s.scrollCol; c < s.scrollCol + cols; c++) {
    const left = colLeft(s, c);
    const w = s.colWidths[c] ?? 0;
    const label = String.fromCharCode(65 + c);
    clippedText(ctx, label, left + (w - textWidth(label)) / 2, left, BAR_HEIGHT, w, HEADER_HEIGHT);
  }
  for (let r = s.scrollRow; r < s.scrollRow + rows; r++) {
    const label = String(r + 1);
    clippedText(ctx, label, ROW_HEADER_WIDTH - 6 - textWidth(label), 0, rowTop(s, r), ROW_HEADER_WIDTH, ROW_HEIGHT);
  }
}

function drawGrid(ctx: DrawingContext, s: SheetState, cols: number, rows: number): void {
  ctx.fillStyle = COLORS.grid;
  for (let c = s.scrollCol; c <= s.scrollCol + cols; c++) ctx.fillRect(colLeft(s, c) - 1, BAR_HEIGHT, 1, s.height);
  for (let r = s.scrollRow; r <= s.scrollRow + rows; r++) ctx.fillRect(0, rowTop(s, r) - 1, s.width, 1);
  ctx.fillRect(0, GRID_TOP - 1, s.width, 1);
}

function drawSelection(ctx: DrawingContext, s: SheetState): void {
  const { c0, r0, c1, r1 } = selectionOf(s);
  const x0 = colLeft(s, Math.max(c0, s.scrollCol));
  const x1 = colLeft(s, c1 + 1);
  const y0 = rowTop(s, Math.max(r0, s.scrollRow));
  const y1 = rowTop(s, r1 + 1);
  if (x1 > x0 && y1 > y0) {
    ctx.fillStyle = COLORS.selection;
    ctx.fillRect(x0, Math.max(GRID_TOP, y0), x1 - x0 - 1, y1 - Math.max(GRID_TOP, y0) - 1);
  }
}

function drawCursor(ctx: DrawingContext, s: SheetState): void {
  const { col, row } = s.cursor;
  if (col < s.scrollCol || row < s.scrollRow) return;
  const x = colLeft(s, col) - 1;
  const y = rowTop(s, row) - 1;
  const w = (s.colWidths[col] ?? 0) + 1;
  ctx.fillStyle = COLORS.cursor;
  ctx.fillRect(x, y, w, 2);
  ctx.fillRect(x, y + ROW_HEIGHT - 1, w, 2);
  ctx.fillRect(x, y, 2, ROW_HEIGHT + 1);
  ctx.fillRect(x + w - 1, y, 2, ROW_HEIGHT + 1);
}

const trackers = new WeakMap<SheetState, DamageTracker>();

/**
 * The frame's parts. Row `r`'s band runs from its top grid line to past its bottom one (the cursor's frame
 * sticks out by a pixel each way), and the band under the last whole row reaches the bottom of the surface.
 */
function partsOf(s: SheetState, values: Map<number, Value>, cols: number, rows: number): FramePart[] {
  const all = { x: 0, y: 0, width: s.width, height: s.height };
  const parts: FramePart[] = [
    { id: 'all', rect: all, key: `${s.width}x${s.height} ${s.scrollRow},${s.scrollCol} ${s.colWidths.join(',')}` },
    { id: 'bar', rect: { x: 0, y: 0, width: s.width, height: BAR_HEIGHT }, key: barKey(s) },
  ];
  const sel = selectionOf(s);
  for (let r = s.scrollRow; r <= s.scrollRow + rows; r++) {
    const top = rowTop(s, r) - 1;
    const height = r === s.scrollRow + rows ? s.height - top : ROW_HEIGHT + 2;
    let key = r >= sel.r0 && r <= sel.r1 ? `${sel.c0},${sel.c1}` : '-';
    key += s.cursor.row === r ? ` @${s.cursor.col}` : '';
    if (r < s.scrollRow + rows) {
      for (let c = s.scrollCol; c < s.scrollCol + cols; c++) {
        const { text, kind } = cellText(s, values, c, r);
        key += `\u0000${kind}\u0001${text}`;
      }
    }
    parts.push({ id: `r${r}`, rect: { x: 0, y: top, width: s.width, height }, key });
  }
  return parts;
}

function barKey(s: SheetState): string {
  return `${nameOf(s.cursor)}\u0000${s.edit === null ? 'v' : 'e'}${s.edit ?? s.cells.get(keyOf(s.cursor)) ?? ''}`;
}

/** What cell (c, r) shows and how: 'e' being edited, 'n' a number (right-aligned), 'x' an error, 't' text. */
function cellText(s: SheetState, values: Map<number, Value>, c: number, r: number): { text: string; kind: string } {
  const editing = s.edit !== null && s.cursor.col === c && s.cursor.row === r;
  if (editing) return { text: `${s.edit ?? ''}|`, kind: 'e' };
  const v = values.get(keyOf({ col: c, row: r }));
  return { text: display(v), kind: v?.kind === 'number' ? 'n' : v?.kind === 'error' ? 'x' : 't' };
}

function drawCells(ctx: DrawingContext, s: SheetState, values: Map<number, Value>, cols: number, rows: number): void {
  for (let r = s.scrollRow; r < s.scrollRow + rows; r++) {
    for (let c = s.scrollCol; c < s.scrollCol + cols; c++) {
      const key = keyOf({ col: c, row: r });
      const editing = s.edit !== null && s.cursor.col === c && s.cursor.row === r;
      const v = values.get(key);
      const text = editing ? `${s.edit ?? ''}|` : display(v);
      if (text === '') continue;
      const left = colLeft(s, c);
      const w = s.colWidths[c] ?? 0;
      const right = !editing && v?.kind === 'number';
      ctx.fillStyle = !editing && v?.kind === 'error' ? COLORS.error : COLORS.text;
      const x = right ? left + w - 5 - textWidth(text) : left + 4;
      clippedText(ctx, text, x, left, rowTop(s, r), w - 1, ROW_HEIGHT - 1);
    }
  }
}

/** Draws the whole surface; with `frame`, answers the rectangles that changed since frame `frame.over`. */
export function renderSheet(s: SheetState, ctx: DrawingContext, frame?: FrameInfo): Rect[] | undefined {
  const cols = visibleCols(s);
  const rows = visibleRows(s);
  ctx.fillStyle = COLORS.page;
  ctx.fillRect(0, 0, s.width, s.height);
  ctx.font = sheetFont().spec(FONT_PX);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  drawSelection(ctx, s);
  drawGrid(ctx, s, cols, rows);
  drawHeaders(ctx, s, cols, rows);
  const values = computeAll(s.cells);
  drawCells(ctx, s, values, cols, rows);
  drawCursor(ctx, s);
  drawBar(ctx, s);
  if (!frame) return undefined;
  let tracker = trackers.get(s);
  if (!tracker) {
    tracker = new DamageTracker();
    trackers.set(s, tracker);
  }
  return tracker.frame(frame, partsOf(s, values, cols, rows));
}
