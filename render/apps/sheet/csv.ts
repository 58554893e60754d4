// CSV (RFC 4180) of what the cells show: computed values, not formulas, over
// the rectangle from A1 to the last non-empty row and column.
import { csvField } from '../../sdk/index.js';
import { computeAll, display } from './formula.js';
import { cellOf, COLS } from './state.js';

export function toCsv(cells: ReadonlyMap<number, string>): string {
  const values = computeAll(cells);
  let lastRow = -1;
  let lastCol = -1;
  for (const key of cells.keys()) {
    const { col, row } = cellOf(key);
    lastRow = Math.max(lastRow, row);
    lastCol = Math.max(lastCol, col);
  }
  const lines: string[] = [];
  for (let r = 0; r <= lastRow; r++) {
    const row: string[] = [];
    for (let c = 0; c <= lastCol; c++) row.push(csvField(display(values.get(r * COLS + c))));
    lines.push(row.join(','));
  }
  return lines.map((l) => `${l}\r\n`).join('');
}
