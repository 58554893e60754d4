// The spreadsheet's whole state: raw cell contents by address, column widths,
// the active cell and the other corner of the selection, the edit buffer,
// scroll position and what a held pointer button is doing. Integers and
// strings only, so snapshots are canonical.

export const COLS = 26;
export const ROWS = 200;
export const MAX_CELL_CHARS = 1000;
export const DEFAULT_COL_WIDTH = 96;
export const MIN_COL_WIDTH = 24;
export const MAX_COL_WIDTH = 600;

export interface Cell {
  col: number;
  row: number;
}

export type Drag =
  { kind: 'none' } | { kind: 'select' } | { kind: 'resize'; col: number; fromX: number; fromWidth: number };

export interface SheetState {
  width: number;
  height: number;
  /** Raw contents ("12", "text", "=SUM(A1:A3)") by cell key (row * COLS + col); empty cells are absent. */
  cells: Map<number, string>;
  colWidths: number[];
  cursor: Cell;
  /** The selection's other corner (equal to the cursor when one cell is selected). */
  extent: Cell;
  /** The text being typed into the cursor's cell, or null when not editing. */
  edit: string | null;
  scrollRow: number;
  scrollCol: number;
  drag: Drag;
}

export const keyOf = (c: Cell): number => c.row * COLS + c.col;
export const cellOf = (key: number): Cell => ({ col: key % COLS, row: Math.floor(key / COLS) });

/** "A1" for { col: 0, row: 0 }. */
export const nameOf = (c: Cell): string => `${String.fromCharCode(65 + c.col)}${c.row + 1}`;

export function clampCell(c: Cell): Cell {
  return { col: Math.max(0, Math.min(COLS - 1, c.col)), row: Math.max(0, Math.min(ROWS - 1, c.row)) };
}

export function initialState(width: number, height: number): SheetState {
  return {
    width,
    height,
    cells: new Map(),
    colWidths: Array.from({ length: COLS }, () => DEFAULT_COL_WIDTH),
    cursor: { col: 0, row: 0 },
    extent: { col: 0, row: 0 },
    edit: null,
    scrollRow: 0,
    scrollCol: 0,
    drag: { kind: 'none' },
  };
}

/** The selection as inclusive bounds. */
export function selectionOf(s: SheetState): { c0: number; r0: number; c1: number; r1: number } {
  return {
    c0: Math.min(s.cursor.col, s.extent.col),
    c1: Math.max(s.cursor.col, s.extent.col),
    r0: Math.min(s.cursor.row, s.extent.row),
    r1: Math.max(s.cursor.row, s.extent.row),
  };
}

/** Sets (or, for "", clears) a cell's raw contents, bounded. */
export function setCell(s: SheetState, c: Cell, raw: string): void {
  const text = raw.slice(0, MAX_CELL_CHARS);
  if (text === '') s.cells.delete(keyOf(c));
  else s.cells.set(keyOf(c), text);
}
