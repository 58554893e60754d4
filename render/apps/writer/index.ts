// Writer: a small word processor as a deterministic Lockstep app.
import { LIMITS } from '../../../protocol/limits.js';
import { ensureFonts } from '../../fonts.js';
import type { App, AppViewport } from '../../app-types.js';
import { applyInput } from './apply.js';
import { selectedText } from './document.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { docOf, initialState, type WriterState } from './state.js';
import { renderWriter } from './writer-render.js';

export type { WriterState } from './state.js';

export const writerApp: App<WriterState> = {
  name: 'writer',
  title: 'Writer',
  init(viewport: AppViewport): WriterState {
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
    renderWriter(state, ctx);
  },
  snapshot: encodeSnapshot,
  restore: decodeSnapshot,
  copyText(state) {
    return selectedText(docOf(state));
  },
};
