// The imported image: `import` parts (`format: 'rgba'`, a band of whole rows
// each) written into the background layer. A part that does not fit is
// ignored, as every app ignores inputs it cannot read.
import { decodeBase64, MAX_IMPORT_IMAGE_PIXELS, SURFACE_LIMITS, type ImportInput } from '../../sdk/index.js';
import type { PaintState } from './state.js';

/** Whether an image of this size can be the board's background (also what restore accepts). */
export function backgroundSizeOk(width: number, height: number): boolean {
  return (
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    width >= 1 &&
    height >= 1 &&
    width <= SURFACE_LIMITS.maxWidth &&
    height <= SURFACE_LIMITS.maxHeight &&
    width * height <= MAX_IMPORT_IMAGE_PIXELS
  );
}

export function applyImport(state: PaintState, ev: ImportInput): PaintState {
  const { width, height } = ev;
  if (ev.format !== 'rgba' || width === undefined || height === undefined || !backgroundSizeOk(width, height))
    return state;
  let rows: Uint8Array;
  try {
    rows = decodeBase64(ev.data);
  } catch {
    return state;
  }
  const rowBytes = width * 4;
  if (rows.length === 0 || rows.length % rowBytes !== 0 || ev.row + rows.length / rowBytes > height) return state;
  // A part of another size starts a new image (the first part of an import, or a later import).
  let bg = state.background;
  if (!bg || bg.width !== width || bg.height !== height) {
    bg = { width, height, pixels: new Uint8Array(rowBytes * height), revision: 0 };
    state.background = bg;
  }
  bg.pixels.set(rows, ev.row * rowBytes);
  bg.revision++;
  return state;
}
