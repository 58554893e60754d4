// Paint: a whiteboard (mouse, pen and touch drawing) as a deterministic Lockstep app.
import { LIMITS } from '../../../protocol/limits.js';
import { ensureFonts } from '../../fonts.js';
import type { App, AppViewport } from '../../app-types.js';
import { applyInput } from './apply.js';
import { renderPaint } from './paint-render.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { initialState, visibleStrokes, type PaintState } from './state.js';

export type { PaintState, Stroke, Tool } from './state.js';

export const paintApp: App<PaintState> = {
  name: 'paint',
  title: 'Paint',
  init(viewport: AppViewport): PaintState {
    ensureFonts();
    // Same bounds a resize input obeys, so every state can be snapshotted and restored.
    const clamp = (v: number, min: number, max: number): number => Math.max(min, Math.min(Math.round(v), max));
    return initialState(
      clamp(viewport.width, LIMITS.minViewport, LIMITS.maxViewportWidth),
      clamp(viewport.height, LIMITS.minViewport, LIMITS.maxViewportHeight),
    );
  },
  apply: applyInput,
  viewport(state) {
    return { width: state.width, height: state.height };
  },
  render(state, ctx) {
    ensureFonts();
    renderPaint(state, ctx);
  },
  snapshot: encodeSnapshot,
  restore: decodeSnapshot,
  copyText(state) {
    const n = visibleStrokes(state).length;
    return n === 0 ? null : `Whiteboard with ${n} stroke${n === 1 ? '' : 's'}`;
  },
};
