// Maps a pointer position on the displayed element to app coordinates. Pure,
// so the arithmetic (CSS scaling, letterboxing, the hidden stamp strip) is
// unit-tested without a browser.

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface AppSize {
  width: number;
  height: number;
}

export interface MapOptions {
  /**
   * Source rows the element shows below the app surface: 0 for the cropping
   * container (strip already hidden), STAMP_HEIGHT for the full video element.
   */
  extraRows: number;
  /** How the content is fitted in the box ('fill' stretches, 'contain' letterboxes). */
  fit: 'fill' | 'contain';
}

export interface AppPoint {
  x: number;
  y: number;
  /** False when the point lies outside the app surface (still mapped, e.g. during a drag). */
  inside: boolean;
}

/** Keeps coordinates inside what the input schema accepts. */
const COORD_LIMIT = 100_000;

/** Scale and offset of the app surface in the box (null when either is empty). */
function fitOf(
  box: Box,
  app: AppSize,
  opts: MapOptions,
): { scaleX: number; scaleY: number; offX: number; offY: number } | null {
  const srcW = app.width;
  const srcH = app.height + opts.extraRows;
  if (box.width <= 0 || box.height <= 0 || srcW <= 0 || srcH <= 0) return null;
  if (opts.fit === 'fill') return { scaleX: box.width / srcW, scaleY: box.height / srcH, offX: 0, offY: 0 };
  const s = Math.min(box.width / srcW, box.height / srcH);
  return { scaleX: s, scaleY: s, offX: (box.width - srcW * s) / 2, offY: (box.height - srcH * s) / 2 };
}

export function mapToApp(clientX: number, clientY: number, box: Box, app: AppSize, opts: MapOptions): AppPoint {
  const f = fitOf(box, app, opts);
  if (!f) return { x: 0, y: 0, inside: false };
  const x = (clientX - box.left - f.offX) / f.scaleX;
  const y = (clientY - box.top - f.offY) / f.scaleY;
  const inside = x >= 0 && y >= 0 && x < app.width && y < app.height;
  return { x: tidy(x), y: tidy(y), inside };
}

/** Two decimals are plenty and keep the input log small; clamp to the schema bounds. */
function tidy(v: number): number {
  const c = Math.min(COORD_LIMIT, Math.max(-COORD_LIMIT, v));
  return Math.round(c * 100) / 100;
}

/** The inverse of mapToApp: where an app point is on screen (client CSS pixels). */
export function mapFromApp(
  appX: number,
  appY: number,
  box: Box,
  app: AppSize,
  opts: MapOptions,
): { clientX: number; clientY: number } {
  const f = fitOf(box, app, opts);
  if (!f) return { clientX: box.left, clientY: box.top };
  return { clientX: box.left + f.offX + appX * f.scaleX, clientY: box.top + f.offY + appY * f.scaleY };
}
