// Writer: a small word processor as a deterministic Lockstep app, written
// against the public SDK only.
import { clampViewport, defineApp, encodeUtf8, type Viewport } from '../../sdk/index.js';
import { applyInput } from './apply.js';
import { selectedText } from './document.js';
import { selectionGeometryOf } from './selection-geometry.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { docOf, initialState, type WriterState } from './state.js';
import { writerDigest } from './writer-digest.js';
import { renderWriter } from './writer-render.js';

export type { WriterState } from './state.js';

export default defineApp<WriterState>({
  init(viewport: Viewport): WriterState {
    // Same bounds a resize input obeys, so every state can be snapshotted and restored.
    const { width, height } = clampViewport(viewport);
    return initialState(width, height);
  },
  apply: applyInput,
  viewport(state) {
    return { width: state.width, height: state.height };
  },
  render(state, ctx, frame) {
    return renderWriter(state, ctx, frame);
  },
  snapshot: encodeSnapshot,
  restore: decodeSnapshot,
  stateDigest: writerDigest,
  copyText(state) {
    return selectedText(docOf(state));
  },
  selectionGeometry: selectionGeometryOf,
  /** The text as it is: plain text is already Markdown (a writer document has no other markup). */
  exportDocument: (state) => encodeUtf8(state.text),
});
