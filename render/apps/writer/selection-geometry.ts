// Where the writer's selection ends are on the surface, for a touch viewer's
// drag handles: the caret rectangle of the anchor and of the focus, derived
// from the state and the same layout the page is drawn with.
import type { CaretRect, SelectionGeometry } from '../../sdk/index.js';
import { lineIndexAt, xAtOffset, type Layout } from './layout.js';
import { UNITS_PER_PX } from './measure.js';
import type { WriterState } from './state.js';
import { layoutOf, LINE_HEIGHT_PX, lineTop, MARGIN_X_PX, widthOf } from './view.js';

/** protocol/selection.ts's coordinate bound. */
const COORD_LIMIT = 100_000;

function caretRectAt(state: WriterState, layout: Layout, offset: number): CaretRect {
  const line = lineIndexAt(layout, offset);
  return {
    x: MARGIN_X_PX + Math.round(xAtOffset(layout, line, offset, widthOf) / UNITS_PER_PX),
    // Far-off ends are clamped into the wire's range (they are off the surface either way).
    y: Math.max(-COORD_LIMIT, Math.min(COORD_LIMIT, lineTop(line) - state.scrollY)),
    height: LINE_HEIGHT_PX,
  };
}

/** Null when nothing is selected; ends scrolled out of view are reported where they would be. */
export function selectionGeometryOf(state: WriterState): SelectionGeometry | null {
  if (state.caret === state.anchor) return null;
  const layout = layoutOf(state);
  return { anchor: caretRectAt(state, layout, state.anchor), focus: caretRectAt(state, layout, state.caret) };
}
