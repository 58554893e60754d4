// Narrowing a damage tile to what changed (docs/tile-display.md, phase 3): the
// renderer's damage is row bands, full width, yet a keystroke changes a glyph
// and the caret. Against the picture the viewer holds (the tile stream's copy
// of the last picture it queued), a band's rows are compared pixel by pixel;
// what goes out is the changed rows' extent, cut into the runs of changed
// columns (runs closer than MERGE_GAP columns merged, at most MAX_RUNS). Pure
// and synchronous: the tile stream calls it while the canvas still holds the frame.
import type { TileRect } from '../protocol/tile-frame.js';

/** Unchanged columns between two changed ones that still go in one tile (a PNG's per-tile overhead vs its pixels). */
export const MERGE_GAP = 48;
/** Runs per tile at most; beyond, the tile spans from the first changed column to the last. */
export const MAX_RUNS = 4;

/**
 * The changed parts of `rect` (full-width rows of a picture `width` pixels wide) between `held` (the whole
 * picture as the viewer has it, 32-bit pixels, row-major) and `now` (the rect's pixels, row-major, `rect.width`
 * wide): rectangles in picture coordinates, none when nothing changed. `held` is updated to `now` in place.
 */
export function changedRects(held: Uint32Array, width: number, now: Uint32Array, rect: TileRect): TileRect[] {
  const w = rect.width;
  if (rect.x !== 0 || w !== width)
    throw new RangeError(`rows of ${w} columns at x ${rect.x} in a ${width}-wide picture`);
  if (now.length !== w * rect.height) throw new RangeError(`${now.length} pixels for a ${w}x${rect.height} rect`);
  const cols = new Uint8Array(w);
  let top = -1;
  let bottom = -1;
  for (let r = 0; r < rect.height; r++) {
    const base = (rect.y + r) * width;
    const src = r * w;
    let rowChanged = false;
    for (let c = 0; c < w; c++) {
      const v = now[src + c] ?? 0;
      if (held[base + c] !== v) {
        held[base + c] = v;
        cols[c] = 1;
        rowChanged = true;
      }
    }
    if (rowChanged) {
      if (top < 0) top = r;
      bottom = r;
    }
  }
  if (top < 0) return [];
  const runs: Array<{ from: number; to: number }> = [];
  for (let c = 0; c < w; c++) {
    if (!cols[c]) continue;
    const last = runs[runs.length - 1];
    if (last && c - last.to <= MERGE_GAP) last.to = c;
    else runs.push({ from: c, to: c });
  }
  const first = runs[0];
  const final = runs[runs.length - 1];
  const spans = runs.length > MAX_RUNS && first && final ? [{ from: first.from, to: final.to }] : runs;
  return spans.map((s) => ({ x: s.from, y: rect.y + top, width: s.to - s.from + 1, height: bottom - top + 1 }));
}
