// The one bundled font. Every app draws with this family only, so every host
// renders the same glyphs whatever fonts its system happens to have.
import { registerFont } from 'canvas';
import { fileURLToPath } from 'node:url';

export const FONT_FAMILY = 'Lockstep Sans';

/** Absolute path of the bundled TTF, resolved next to this module. */
export const FONT_PATH = fileURLToPath(new URL('./fonts/DejaVuSans.ttf', import.meta.url));

let registered = false;

/** Registers the bundled font with node-canvas; safe to call any number of times. */
export function ensureFonts(): void {
  if (registered) return;
  registerFont(FONT_PATH, { family: FONT_FAMILY });
  registered = true;
}

/** A CSS font shorthand for the bundled family at `sizePx`. */
export function fontSpec(sizePx: number): string {
  return `${sizePx}px "${FONT_FAMILY}"`;
}
