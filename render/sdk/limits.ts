// Bounds an app can rely on: every resize input and every surface it is
// created with stays inside them.
import { LIMITS } from '../../protocol/limits.js';
import type { Viewport } from './app-definition.js';

export const SURFACE_LIMITS = {
  minWidth: LIMITS.minViewport,
  minHeight: LIMITS.minViewport,
  maxWidth: LIMITS.maxViewportWidth,
  maxHeight: LIMITS.maxViewportHeight,
} as const;

/** Longest paste text an app can receive, in UTF-16 units. */
export const MAX_PASTE_CHARS = LIMITS.maxPasteChars;

/** Most pixels of an image an app receives through `import` parts (`format: 'rgba'`), width × height. */
export const MAX_IMPORT_IMAGE_PIXELS = LIMITS.maxImportImagePixels;

/** Rounds and clamps a surface size into SURFACE_LIMITS (what `init` should accept). */
export function clampViewport(viewport: Viewport): Viewport {
  const clamp = (v: number, min: number, max: number): number => Math.max(min, Math.min(Math.round(v), max));
  return {
    width: clamp(viewport.width, SURFACE_LIMITS.minWidth, SURFACE_LIMITS.maxWidth),
    height: clamp(viewport.height, SURFACE_LIMITS.minHeight, SURFACE_LIMITS.maxHeight),
  };
}
