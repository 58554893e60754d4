// Page geometry: margins, line height, the status bar, scrolling and mapping
// pointer coordinates to text offsets. Shared by input handling and drawing
// so what you click is exactly what was drawn.
import { lineIndexAt, offsetAtX, clusterAtX, xAtOffset, type Layout } from './layout.js';
import { measurerFor, UNITS_PER_PX } from './measure.js';
import { textIndexOf, type WriterState } from './state.js';

export const FONT_SIZE_PX = 16;
export const LINE_HEIGHT_PX = 24;
export const MARGIN_X_PX = 32;
export const MARGIN_TOP_PX = 20;
export const MARGIN_BOTTOM_PX = 20;
export const STATUS_HEIGHT_PX = 28;
export const STATUS_FONT_PX = 13;

export const textMeasurer = measurerFor(FONT_SIZE_PX);
export const widthOf = (cluster: string): number => textMeasurer.cluster(cluster).width;

/** Wrap width in layout units: the viewport minus both side margins (at least one pixel). */
export function wrapWidthOf(viewportWidth: number): number {
  return Math.max(1, viewportWidth - 2 * MARGIN_X_PX) * UNITS_PER_PX;
}

export function layoutOf(state: WriterState): Layout {
  return textIndexOf(state).layout(wrapWidthOf(state.width), widthOf);
}

/** Height of the scrolling text area above the status bar. */
export function textAreaHeight(state: WriterState): number {
  return Math.max(0, state.height - STATUS_HEIGHT_PX);
}

export function contentHeight(layout: Layout): number {
  return MARGIN_TOP_PX + layout.lineCount * LINE_HEIGHT_PX + MARGIN_BOTTOM_PX;
}

export function maxScroll(state: WriterState, layout: Layout): number {
  return Math.max(0, contentHeight(layout) - textAreaHeight(state));
}

/** Top of visual line `index` in content coordinates (add -scrollY for the screen). */
export function lineTop(index: number): number {
  return MARGIN_TOP_PX + index * LINE_HEIGHT_PX;
}

export function clampScroll(state: WriterState): WriterState {
  const max = maxScroll(state, layoutOf(state));
  state.scrollY = Math.max(0, Math.min(Math.round(state.scrollY), max));
  return state;
}

/** Scrolls the least amount that shows the caret's whole line, then clamps. */
export function scrollCaretIntoView(state: WriterState): WriterState {
  const layout = layoutOf(state);
  const top = lineTop(lineIndexAt(layout, state.caret));
  const view = textAreaHeight(state);
  if (top + LINE_HEIGHT_PX + MARGIN_BOTTOM_PX > state.scrollY + view) {
    state.scrollY = top + LINE_HEIGHT_PX + MARGIN_BOTTOM_PX - view;
  }
  if (top - MARGIN_TOP_PX < state.scrollY) state.scrollY = top - MARGIN_TOP_PX;
  return clampScroll(state);
}

/** Caret x in layout units from the text's left edge. */
export function caretX(state: WriterState): number {
  const layout = layoutOf(state);
  return xAtOffset(layout, lineIndexAt(layout, state.caret), state.caret, widthOf);
}

function lineAtY(layout: Layout, state: WriterState, y: number): number {
  const index = Math.floor((y + state.scrollY - MARGIN_TOP_PX) / LINE_HEIGHT_PX);
  return Math.max(0, Math.min(index, layout.lineCount - 1));
}

function unitsAtX(x: number): number {
  return Math.round((x - MARGIN_X_PX) * UNITS_PER_PX);
}

/** The caret position nearest to a point on screen (clamped to the text). */
export function offsetAtPoint(state: WriterState, x: number, y: number): number {
  const layout = layoutOf(state);
  return offsetAtX(layout, lineAtY(layout, state, y), unitsAtX(x), widthOf);
}

/** The start of the cluster under a point on screen (for word/paragraph picks). */
export function clusterAtPoint(state: WriterState, x: number, y: number): number {
  const layout = layoutOf(state);
  return clusterAtX(layout, lineAtY(layout, state, y), unitsAtX(x), widthOf);
}
