// Strokes and the undo history. One linear history: starting a stroke or a
// clear drops the redo tail; a clear is an item, so it undoes like a stroke.
import {
  COORD_MAX,
  COORD_MIN,
  ERASER_INK,
  MAX_POINTS,
  pointCount,
  strokeWidth,
  visibleStart,
  type PaintState,
} from './state.js';

/** Whole pixels, clamped; `| 0` also turns -0 into 0 so equal states stay equal. */
export function quantize(v: number): number {
  return Math.round(Math.max(COORD_MIN, Math.min(v, COORD_MAX))) | 0;
}

function dropRedoTail(state: PaintState): void {
  for (let i = state.applied; i < state.items.length; i++) {
    const item = state.items[i];
    if (item?.kind === 'stroke') state.totalPoints -= pointCount(item.stroke);
  }
  state.items.length = state.applied;
}

/**
 * At the point cap, forgets history hidden behind the last clear in effect:
 * it is reachable only through undo, and dropping it changes no pixel.
 */
function forgetClearedHistory(state: PaintState): void {
  const start = visibleStart(state);
  if (start === 0) return;
  for (let i = 0; i < start; i++) {
    const item = state.items[i];
    if (item?.kind === 'stroke') state.totalPoints -= pointCount(item.stroke);
  }
  state.items.splice(0, start);
  state.applied -= start;
}

/** Finishes the stroke in progress, if any, as one undoable step. */
export function commitStroke(state: PaintState): PaintState {
  const stroke = state.drawing;
  if (!stroke) return state;
  state.drawing = null;
  state.items.push({ kind: 'stroke', stroke });
  state.applied = state.items.length;
  return state;
}

/** Appends a point unless it rounds onto the previous one or the cap is reached. */
export function addPoint(state: PaintState, x: number, y: number): PaintState {
  const stroke = state.drawing;
  if (!stroke) return state;
  const px = quantize(x);
  const py = quantize(y);
  const n = stroke.points.length;
  if (stroke.points[n - 2] === px && stroke.points[n - 1] === py) return state;
  if (state.totalPoints >= MAX_POINTS) {
    state.full = true;
    return state;
  }
  stroke.points.push(px, py);
  state.totalPoints++;
  return state;
}

export function beginStroke(state: PaintState, x: number, y: number): PaintState {
  commitStroke(state);
  dropRedoTail(state);
  if (state.totalPoints >= MAX_POINTS) forgetClearedHistory(state);
  if (state.totalPoints >= MAX_POINTS) {
    state.full = true;
    return state;
  }
  state.full = false;
  state.drawing = {
    ink: state.tool === 'eraser' ? ERASER_INK : state.color,
    width: strokeWidth(state.tool, state.size),
    points: [quantize(x), quantize(y)],
  };
  state.totalPoints++;
  return state;
}

export function undo(state: PaintState): PaintState {
  commitStroke(state);
  if (state.applied > 0) state.applied--;
  return state;
}

export function redo(state: PaintState): PaintState {
  commitStroke(state);
  if (state.applied < state.items.length) state.applied++;
  return state;
}

/** Hides every stroke as one undoable step; a no-op on an empty board. */
export function clearBoard(state: PaintState): PaintState {
  commitStroke(state);
  if (visibleStart(state) >= state.applied) return state;
  dropRedoTail(state);
  state.items.push({ kind: 'clear' });
  state.applied = state.items.length;
  return state;
}
