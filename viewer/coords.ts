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

export function mapToApp(clientX: number, clientY: number, box: Box, app: AppSize, opts: MapOptions): AppPoint {
  const srcW = app.width;
  const srcH = app.height + opts.extraRows;
  if (box.width <= 0 || box.height <= 0 || srcW <= 0 || srcH <= 0) return { x: 0, y: 0, inside: false };
  let scaleX = box.width / srcW;
  let scaleY = box.height / srcH;
  let offX = 0;
  let offY = 0;
  if (opts.fit === 'contain') {
    const s = Math.min(scaleX, scaleY);
    offX = (box.width - srcW * s) / 2;
    offY = (box.height - srcH * s) / 2;
    scaleX = s;
    scaleY = s;
  }
  const x = (clientX - box.left - offX) / scaleX;
  const y = (clientY - box.top - offY) / scaleY;
  const inside = x >= 0 && y >= 0 && x < app.width && y < app.height;
  return { x: tidy(x), y: tidy(y), inside };
}

/** Two decimals are plenty and keep the input log small; clamp to the schema bounds. */
function tidy(v: number): number {
  const c = Math.min(COORD_LIMIT, Math.max(-COORD_LIMIT, v));
  return Math.round(c * 100) / 100;
}
