// Paint: a whiteboard (mouse, pen and touch drawing) as a deterministic Lockstep
// app, written against the public SDK only.
import { clampViewport, defineApp, type Viewport } from '../../sdk/index.js';
import { applyInput } from './apply.js';
import { renderPaint } from './paint-render.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { initialState, visibleStrokes, type PaintState } from './state.js';

export type { PaintState, Stroke, Tool } from './state.js';

export default defineApp<PaintState>({
  init(viewport: Viewport): PaintState {
    // Same bounds a resize input obeys, so every state can be snapshotted and restored.
    const { width, height } = clampViewport(viewport);
    return initialState(width, height);
  },
  apply: applyInput,
  viewport(state) {
    return { width: state.width, height: state.height };
  },
  render(state, ctx, frame) {
    return renderPaint(state, ctx, frame);
  },
  snapshot: encodeSnapshot,
  restore: decodeSnapshot,
  copyText(state) {
    const n = visibleStrokes(state).length;
    return n === 0 ? null : `Whiteboard with ${n} stroke${n === 1 ? '' : 's'}`;
  },
});
