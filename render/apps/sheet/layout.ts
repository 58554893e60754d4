// Where things are on the surface: the formula bar, the column and row
// headers, and the cells (scrolled by whole columns and rows).
import { COLS, ROWS, type Cell, type SheetState } from './state.js';

export const BAR_HEIGHT = 28;
export const HEADER_HEIGHT = 22;
export const ROW_HEIGHT = 22;
export const ROW_HEADER_WIDTH = 44;
export const FONT_PX = 13;
/** How close to a column header's right edge a press starts a resize. */
const BORDER_GRAB = 4;

export const GRID_TOP = BAR_HEIGHT + HEADER_HEIGHT;

/** Left edge of `col` (may be off the surface); columns left of the scroll position are hidden. */
export function colLeft(s: SheetState, col: number): number {
  let x = ROW_HEADER_WIDTH;
  for (let c = s.scrollCol; c < col; c++) x += s.colWidths[c] ?? 0;
  return x;
}

export const rowTop = (s: SheetState, row: number): number => GRID_TOP + (row - s.scrollRow) * ROW_HEIGHT;

export function visibleRows(s: SheetState): number {
  return Math.max(1, Math.floor((s.height - GRID_TOP) / ROW_HEIGHT));
}

/** Columns wholly or partly on the surface, from scrollCol. */
export function visibleCols(s: SheetState): number {
  let n = 0;
  for (let c = s.scrollCol, x = ROW_HEADER_WIDTH; c < COLS && x < s.width; c++, n++) x += s.colWidths[c] ?? 0;
  return Math.max(1, n);
}

export type Hit =
  | { area: 'cell'; cell: Cell }
  | { area: 'col-border'; col: number }
  | { area: 'col-header'; col: number }
  | { area: 'row-header'; row: number }
  | { area: 'none' };

export function hitTest(s: SheetState, x: number, y: number): Hit {
  if (y < BAR_HEIGHT) return { area: 'none' };
  let col = -1;
  let right = ROW_HEADER_WIDTH;
  for (let c = s.scrollCol; c < COLS && right <= x; c++) {
    right += s.colWidths[c] ?? 0;
    col = c;
  }
  if (x < ROW_HEADER_WIDTH) col = -1;
  if (y < GRID_TOP) {
    if (col < 0) return { area: 'none' };
    if (right - x <= BORDER_GRAB) return { area: 'col-border', col };
    const left = right - (s.colWidths[col] ?? 0);
    if (x - left < BORDER_GRAB && col > s.scrollCol) return { area: 'col-border', col: col - 1 };
    return { area: 'col-header', col };
  }
  const row = s.scrollRow + Math.floor((y - GRID_TOP) / ROW_HEIGHT);
  if (row >= ROWS) return { area: 'none' };
  if (col < 0) return { area: 'row-header', row };
  return { area: 'cell', cell: { col, row } };
}

/** Scrolls so `cell` is on the surface. */
export function scrollToCell(s: SheetState, cell: Cell): void {
  const rows = visibleRows(s);
  if (cell.row < s.scrollRow) s.scrollRow = cell.row;
  else if (cell.row >= s.scrollRow + rows) s.scrollRow = cell.row - rows + 1;
  if (cell.col < s.scrollCol) s.scrollCol = cell.col;
  else while (s.scrollCol < cell.col && colLeft(s, cell.col + 1) > s.width) s.scrollCol++;
}
