// Sheet: a spreadsheet (cells, formulas with references and ranges,
// recalculation, column widths, copy and paste of ranges) as a deterministic
// Lockstep app, written against the public SDK only.
import { clampViewport, defineApp, encodeUtf8, type Viewport } from '../../sdk/index.js';
import { toCsv } from './csv.js';
import { applyInput } from './apply.js';
import { renderSheet } from './sheet-render.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { initialState, keyOf, selectionOf, type SheetState } from './state.js';

export type { SheetState } from './state.js';
export { computeAll, display } from './formula.js';

export default defineApp<SheetState>({
  init(viewport: Viewport): SheetState {
    const { width, height } = clampViewport(viewport);
    return initialState(width, height);
  },
  apply: applyInput,
  viewport: (state) => ({ width: state.width, height: state.height }),
  render: renderSheet,
  snapshot: encodeSnapshot,
  restore: decodeSnapshot,
  /** The selection's raw contents as tab-separated rows (what other spreadsheets paste). */
  copyText(state) {
    const { c0, r0, c1, r1 } = selectionOf(state);
    const rows: string[] = [];
    for (let r = r0; r <= r1; r++) {
      const row: string[] = [];
      for (let c = c0; c <= c1; c++) row.push(state.cells.get(keyOf({ col: c, row: r })) ?? '');
      rows.push(row.join('\t'));
    }
    return rows.join('\n');
  },
  exportDocument: (state) => encodeUtf8(toCsv(state.cells)),
});
