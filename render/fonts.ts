// Fonts for apps, registered with node-canvas by family. The platform font
// ships with every host, so built-in apps use it without carrying a copy; an
// app's own font files are registered when the app is loaded. Apps draw only
// with these families, so every host renders the same glyphs whatever fonts
// its system happens to have.
import { registerFont } from 'canvas';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FontNotFoundError } from './sdk/errors.js';
import type { Font } from './sdk/fonts.js';
import type { PLATFORM_FONTS } from './sdk/manifest.js';
import { parseFontMetrics } from './sdk-host/font-metrics.js';
import { RenderError } from './errors.js';

export const FONT_FAMILY = 'Lockstep Sans';

/** Absolute path of the bundled TTF, resolved next to this module. */
export const FONT_PATH = fileURLToPath(new URL('./fonts/DejaVuSans.ttf', import.meta.url));

export const PLATFORM_FONT_PATHS: Readonly<Record<(typeof PLATFORM_FONTS)[number], string>> = {
  DejaVuSans: FONT_PATH,
};

/** Two apps on one node declared the same family with different files. */
export class FontConflictError extends RenderError {}

const declared = new Map<string, string>();
const loaded = new Map<string, Font>();

/** Declares `family` as the font file at `path` (idempotent for the same file). */
export function declareFont(family: string, path: string): void {
  const existing = declared.get(family);
  if (existing !== undefined && existing !== path) {
    throw new FontConflictError(`font family "${family}" is already ${existing}, not ${path}`, { family, path });
  }
  declared.set(family, path);
}

/** A CSS font shorthand for `family` at `sizePx`. */
export function fontSpec(sizePx: number, family = FONT_FAMILY): string {
  return `${sizePx}px "${family}"`;
}

/** Registers a declared family with node-canvas on first use and returns it with its metrics. */
export function loadDeclaredFont(family: string): Font {
  const cached = loaded.get(family);
  if (cached) return cached;
  const path = declared.get(family);
  if (path === undefined) throw new FontNotFoundError(family);
  registerFont(path, { family });
  const metrics = parseFontMetrics(readFileSync(path));
  const font: Font = { family, metrics, spec: (sizePx) => fontSpec(sizePx, family) };
  loaded.set(family, font);
  return font;
}
