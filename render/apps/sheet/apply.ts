// Inputs: editing cells, moving and extending the selection, clicking and
// dragging, resizing columns, scrolling, pasting a range, resizing the surface.
import { CsvError, parseCsv, typedText, type AppInput, type KeyInput, type PointerInput } from '../../sdk/index.js';
import { hitTest, scrollToCell, visibleRows } from './layout.js';
import {
  clampCell,
  COLS,
  MAX_COL_WIDTH,
  MIN_COL_WIDTH,
  ROWS,
  selectionOf,
  setCell,
  keyOf,
  MAX_CELL_CHARS,
  type Cell,
  type SheetState,
} from './state.js';

function commit(s: SheetState): void {
  if (s.edit !== null) setCell(s, s.cursor, s.edit);
  s.edit = null;
}

function moveTo(s: SheetState, to: Cell, extend: boolean): void {
  const c = clampCell(to);
  s.extent = c;
  if (!extend) s.cursor = c;
  scrollToCell(s, c);
}

function step(s: SheetState, dc: number, dr: number, extend: boolean): void {
  const from = extend ? s.extent : s.cursor;
  moveTo(s, { col: from.col + dc, row: from.row + dr }, extend);
}

function clearSelection(s: SheetState): void {
  const { c0, r0, c1, r1 } = selectionOf(s);
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) s.cells.delete(keyOf({ col: c, row: r }));
}

function onKey(s: SheetState, ev: KeyInput): void {
  if (ev.action !== 'down') return;
  const extend = ev.mods.shift;
  if (s.edit !== null) {
    switch (ev.key) {
      case 'Escape':
        s.edit = null;
        return;
      case 'Backspace':
        s.edit = [...s.edit].slice(0, -1).join('');
        return;
      case 'Enter':
        commit(s);
        step(s, 0, extend ? -1 : 1, false);
        return;
      case 'Tab':
        commit(s);
        step(s, extend ? -1 : 1, 0, false);
        return;
      case 'ArrowUp':
      case 'ArrowDown':
      case 'ArrowLeft':
      case 'ArrowRight':
        commit(s);
        break; // then move like any arrow
      default: {
        const text = ev.mods.ctrl || ev.mods.meta ? '' : typedText(ev);
        if (text !== '') s.edit = (s.edit + text).slice(0, MAX_CELL_CHARS);
        return;
      }
    }
  }
  const page = visibleRows(s);
  switch (ev.key) {
    case 'ArrowUp':
      return step(s, 0, -1, extend);
    case 'ArrowDown':
      return step(s, 0, 1, extend);
    case 'ArrowLeft':
      return step(s, -1, 0, extend);
    case 'ArrowRight':
      return step(s, 1, 0, extend);
    case 'PageUp':
      return step(s, 0, -page, extend);
    case 'PageDown':
      return step(s, 0, page, extend);
    case 'Home':
      return moveTo(s, { col: 0, row: ev.mods.ctrl ? 0 : (extend ? s.extent : s.cursor).row }, extend);
    case 'Enter':
      return step(s, 0, extend ? -1 : 1, false);
    case 'Tab':
      return step(s, extend ? -1 : 1, 0, false);
    case 'Delete':
    case 'Backspace':
      return clearSelection(s);
    case 'F2':
      s.edit = s.cells.get(keyOf(s.cursor)) ?? '';
      return;
    default: {
      if (ev.mods.ctrl || ev.mods.meta) {
        if (ev.key.toLowerCase() === 'a') {
          s.cursor = { col: 0, row: 0 };
          s.extent = { col: COLS - 1, row: ROWS - 1 };
        }
        return;
      }
      const text = typedText(ev);
      if (text !== '') {
        s.extent = s.cursor;
        s.edit = text.slice(0, MAX_CELL_CHARS);
      }
    }
  }
}

function onPointer(s: SheetState, ev: PointerInput): void {
  const x = Math.round(ev.x);
  const y = Math.round(ev.y);
  if (ev.action === 'down' && ev.button === 0) {
    const hit = hitTest(s, x, y);
    if (hit.area === 'col-border') {
      commit(s);
      s.drag = { kind: 'resize', col: hit.col, fromX: x, fromWidth: s.colWidths[hit.col] ?? 0 };
    } else if (hit.area === 'cell') {
      commit(s);
      moveTo(s, hit.cell, ev.mods.shift);
      s.drag = { kind: 'select' };
    } else if (hit.area === 'col-header') {
      commit(s);
      s.cursor = { col: hit.col, row: 0 };
      s.extent = { col: hit.col, row: ROWS - 1 };
    } else if (hit.area === 'row-header') {
      commit(s);
      s.cursor = { col: 0, row: hit.row };
      s.extent = { col: COLS - 1, row: hit.row };
    }
    return;
  }
  if (ev.action === 'move' && (ev.buttons & 1) !== 0) {
    if (s.drag.kind === 'resize') {
      const w = s.drag.fromWidth + (x - s.drag.fromX);
      s.colWidths[s.drag.col] = Math.max(MIN_COL_WIDTH, Math.min(MAX_COL_WIDTH, w));
    } else if (s.drag.kind === 'select') {
      const hit = hitTest(s, x, y);
      if (hit.area === 'cell') s.extent = hit.cell;
    }
    return;
  }
  if (ev.action === 'up') s.drag = { kind: 'none' };
}

/** Tab-separated rows (what spreadsheets put on the clipboard) into the grid at the cursor. */
function pasteRange(s: SheetState, text: string): void {
  if (s.edit !== null) {
    s.edit = (s.edit + (text.split(/\r?\n/)[0] ?? '')).slice(0, MAX_CELL_CHARS);
    return;
  }
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const origin = s.cursor;
  let maxCol = origin.col;
  lines.forEach((line, r) => {
    const row = origin.row + r;
    if (row >= ROWS) return;
    line.split('\t').forEach((raw, c) => {
      const col = origin.col + c;
      if (col >= COLS) return;
      setCell(s, { col, row }, raw);
      maxCol = Math.max(maxCol, col);
    });
  });
  s.extent = { col: maxCol, row: Math.min(ROWS - 1, origin.row + lines.length - 1) };
}

/** Whole CSV records into the grid from column A, row `row` on (cells beyond the grid are left out). */
function importRecords(s: SheetState, csv: string, row: number): void {
  let records: string[][];
  try {
    records = parseCsv(csv);
  } catch (err) {
    // The server refuses bad quoting before logging; a part that still fails is ignored, the same on every replica.
    if (err instanceof CsvError) return;
    throw err;
  }
  records.forEach((fields, r) => {
    if (row + r >= ROWS) return;
    fields.forEach((raw, col) => {
      if (col < COLS) setCell(s, { col, row: row + r }, raw.slice(0, MAX_CELL_CHARS));
    });
  });
}

export function applyInput(s: SheetState, input: AppInput): SheetState {
  const ev = input.event;
  switch (ev.type) {
    case 'key':
      onKey(s, ev);
      break;
    case 'pointer':
      onPointer(s, ev);
      break;
    case 'wheel': {
      const rows = Math.trunc(ev.dy / 40);
      s.scrollRow = Math.max(0, Math.min(ROWS - 1, s.scrollRow + rows));
      const cols = Math.trunc(ev.dx / 80);
      s.scrollCol = Math.max(0, Math.min(COLS - 1, s.scrollCol + cols));
      break;
    }
    case 'paste':
      pasteRange(s, ev.text);
      break;
    case 'import':
      if (ev.format === 'csv') importRecords(s, ev.data, ev.row);
      break;
    case 'resize':
      s.width = ev.width;
      s.height = ev.height;
      break;
    case 'release-all':
      s.drag = { kind: 'none' };
      break;
  }
  return s;
}
