// Cluster widths in fixed-point layout units (quarter pixels). Widths come
// from the bundled font's own tables and are integers, so line breaks, caret
// positions and goal columns are exact integer arithmetic on every host.
import { loadFont, type Font, type FontMetrics } from '../../sdk/index.js';
import { isDefaultIgnorable, isWide, nextBoundary } from './clusters.js';

/** Layout units per CSS pixel: quarter-pixel precision. */
export const UNITS_PER_PX = 4;

let font: Font | null = null;

/** The one family the writer draws with (declared in app.json), loaded on first use. */
export function textFont(): Font {
  font ??= loadFont('Lockstep Sans');
  return font;
}

function fontMetrics(): FontMetrics {
  return textFont().metrics;
}

export interface ClusterInfo {
  /** Advance in layout units. */
  readonly width: number;
  /** The text to hand the font rasterizer, or null for a placeholder box (no glyph in the font). */
  readonly draw: string | null;
}

export interface Measurer {
  readonly sizePx: number;
  cluster(cluster: string): ClusterInfo;
  /** Width of a run of clusters in layout units. */
  width(text: string): number;
  /** Baseline offset below a line's top for a line `lineHeightPx` tall, in whole pixels. */
  baseline(lineHeightPx: number): number;
}

function describe(m: FontMetrics, sizePx: number, cluster: string): ClusterInfo {
  const toUnits = (fontUnits: number): number => Math.round((fontUnits * sizePx * UNITS_PER_PX) / m.unitsPerEm);
  const first = cluster.codePointAt(0) ?? 0;
  let drawable = '';
  let covered = true;
  for (const ch of cluster) {
    const cp = ch.codePointAt(0) ?? 0;
    // Invisible joiners/selectors would make the rasterizer look for an
    // emoji font the host may or may not have: drop them from drawing.
    if (isDefaultIgnorable(cp)) continue;
    if (m.advanceOf(cp) === null) covered = false;
    drawable += ch;
  }
  if (covered) {
    // Combining marks sit on their base: the cluster advances by the base only.
    const advance = m.advanceOf(first) ?? 0;
    return { width: toUnits(advance), draw: drawable === '' ? null : drawable };
  }
  // No glyph in the bundled font: a fixed-size box keeps layout and pixels
  // identical everywhere instead of using whatever fallback font a host has.
  const em = sizePx * UNITS_PER_PX;
  return { width: isWide(first) ? em : Math.round(em * 0.6), draw: null };
}

const measurers = new Map<number, Measurer>();

/** A cached measurer for the bundled font at `sizePx`. */
export function measurerFor(sizePx: number): Measurer {
  const existing = measurers.get(sizePx);
  if (existing) return existing;
  const m = fontMetrics();
  const cache = new Map<string, ClusterInfo>();
  const cluster = (c: string): ClusterInfo => {
    let info = cache.get(c);
    if (!info) {
      info = describe(m, sizePx, c);
      // Clusters are short and the set in use is small; bound it anyway.
      if (cache.size > 20_000) cache.clear();
      cache.set(c, info);
    }
    return info;
  };
  const measurer: Measurer = {
    sizePx,
    cluster,
    width(text) {
      let w = 0;
      for (let i = 0; i < text.length;) {
        const n = nextBoundary(text, i);
        w += cluster(text.slice(i, n)).width;
        i = n;
      }
      return w;
    },
    baseline(lineHeightPx) {
      const ascent = (m.ascender * sizePx) / m.unitsPerEm;
      const descent = (-m.descender * sizePx) / m.unitsPerEm;
      return Math.round((lineHeightPx - ascent - descent) / 2 + ascent);
    },
  };
  measurers.set(sizePx, measurer);
  return measurer;
}
