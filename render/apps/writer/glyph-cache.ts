// Pre-rasterized clusters. node-canvas fills text as paths (several µs per
// glyph on every call), so each cluster is rasterized once per colour and
// quarter-pixel phase, then blitted; this also places every glyph exactly at
// its layout position, so what is drawn matches caret and hit-test maths.
import { createSurface, type DrawingContext, type Surface } from '../../sdk/index.js';
import { classOf, forEachCluster } from './clusters.js';
import { textFont, UNITS_PER_PX, type Measurer } from './measure.js';

interface Glyph {
  readonly canvas: Surface;
  /** Padding around the advance box, so overhanging ink is not clipped. */
  readonly padX: number;
  readonly padY: number;
}

const glyphs = new Map<string, Glyph>();
const MAX_GLYPHS = 10_000;

function glyphFor(
  m: Measurer,
  draw: string,
  widthUnits: number,
  color: string,
  phase: number,
  lineHeightPx: number,
): Glyph {
  const key = `${m.sizePx}|${lineHeightPx}|${color}|${phase}|${draw}`;
  const cached = glyphs.get(key);
  if (cached) return cached;
  const padX = Math.ceil(m.sizePx / 3);
  const padY = Math.ceil(m.sizePx / 3);
  const canvas = createSurface(Math.ceil(widthUnits / UNITS_PER_PX) + 2 * padX + 1, lineHeightPx + 2 * padY);
  const ctx = canvas.getContext('2d');
  ctx.font = textFont().spec(m.sizePx);
  ctx.fillStyle = color;
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(draw, padX + phase / UNITS_PER_PX, padY + m.baseline(lineHeightPx));
  const glyph = { canvas, padX, padY };
  // The cache only saves work; dropping it never changes a pixel.
  if (glyphs.size >= MAX_GLYPHS) glyphs.clear();
  glyphs.set(key, glyph);
  return glyph;
}

/** A hollow box for clusters the bundled font has no glyph for. */
function drawPlaceholder(
  ctx: DrawingContext,
  x: number,
  top: number,
  w: number,
  m: Measurer,
  lineHeightPx: number,
  color: string,
): void {
  const h = Math.round(m.sizePx * 0.75);
  const y = top + m.baseline(lineHeightPx) - h;
  const bw = Math.max(3, w - 2);
  ctx.fillStyle = color;
  ctx.fillRect(x + 1, y, bw, 1);
  ctx.fillRect(x + 1, y + h - 1, bw, 1);
  ctx.fillRect(x + 1, y, 1, h);
  ctx.fillRect(x + bw, y, 1, h);
}

/**
 * Draws text[start, end) as one line whose left edge is at `leftPx` (whole
 * pixels) and whose line box starts at `topPx`. Returns the advance in units.
 */
export function drawRun(
  ctx: DrawingContext,
  m: Measurer,
  text: string,
  start: number,
  end: number,
  leftPx: number,
  topPx: number,
  lineHeightPx: number,
  color: string,
): number {
  let x = 0;
  forEachCluster(text, start, end, (cluster) => {
    const info = m.cluster(cluster);
    const px = leftPx + Math.floor(x / UNITS_PER_PX);
    if (info.draw === null) {
      if (info.width > 0)
        drawPlaceholder(ctx, px, topPx, Math.round(info.width / UNITS_PER_PX), m, lineHeightPx, color);
    } else if (classOf(cluster) !== 'space') {
      const g = glyphFor(m, info.draw, info.width, color, x % UNITS_PER_PX, lineHeightPx);
      ctx.drawImage(g.canvas, px - g.padX, topPx - g.padY);
    }
    x += info.width;
  });
  return x;
}
