// The rows of a frame an app's damage report makes the renderer read back.
// The report is app output, so untrusted: anything that is not a short list
// of finite rectangles means "the whole frame". Rectangles are clipped to the
// app area, widened to whole rows of the frame (wrtc converts whole rows) and
// to even rows (each I420 chroma row covers two frame rows), and merged into
// a few bands. Reading back more rows than were damaged is always safe: the
// canvas holds the full picture, and any row read is read from it.
import type { AppViewport } from './app-types.js';

/** Rows [top, bottom) of the frame; both even. */
export interface RowBand {
  top: number;
  bottom: number;
}

/** A report with more rectangles than this is not worth checking: the whole frame. */
export const MAX_DAMAGE_RECTS = 256;
/** Bands read back one by one at most; beyond, the nearest ones are merged. */
export const MAX_BANDS = 6;
/** Damage covering more of the app area than this is read back whole (one call beats many). */
const WHOLE_SHARE = 0.6;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Rounds `top` down and `bottom` up to even rows. */
export function evenBand(top: number, bottom: number): RowBand {
  return { top: top - (top % 2), bottom: bottom + (bottom % 2) };
}

/** Sorted bands with overlapping or touching ones joined. */
export function mergeBands(bands: readonly RowBand[]): RowBand[] {
  const sorted = [...bands].sort((a, b) => a.top - b.top);
  const out: RowBand[] = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last && b.top <= last.bottom) last.bottom = Math.max(last.bottom, b.bottom);
    else out.push({ ...b });
  }
  return out;
}

/** At most `max` bands: the two with the smallest gap between them are joined until it fits. */
export function capBands(bands: readonly RowBand[], max: number): RowBand[] {
  const out = bands.map((b) => ({ ...b }));
  while (out.length > Math.max(1, max)) {
    let best = 0;
    for (let i = 1; i < out.length - 1; i++) {
      const gap = (out[i + 1]?.top ?? 0) - (out[i]?.bottom ?? 0);
      if (gap < (out[best + 1]?.top ?? 0) - (out[best]?.bottom ?? 0)) best = i;
    }
    const a = out[best];
    const b = out[best + 1];
    if (!a || !b) break;
    a.bottom = b.bottom;
    out.splice(best + 1, 1);
  }
  return out;
}

/**
 * The bands of the app area (`view`) to read back for the app's damage answer `raw`, or null for the whole
 * frame (no answer, a malformed one, or so much damage that one read-back is cheaper). An empty list: the app
 * area is unchanged.
 */
export function damageBands(raw: unknown, view: AppViewport): RowBand[] | null {
  if (!Array.isArray(raw) || raw.length > MAX_DAMAGE_RECTS) return null;
  const bands: RowBand[] = [];
  for (const r of raw as unknown[]) {
    if (typeof r !== 'object' || r === null) return null;
    const { x, y, width, height } = r as Record<string, unknown>;
    if (!finite(x) || !finite(y) || !finite(width) || !finite(height) || width < 0 || height < 0) return null;
    // Clipped to the app area; what is left of it outside is nothing to read.
    const left = Math.max(0, Math.floor(x));
    const right = Math.min(view.width, Math.ceil(x + width));
    const top = Math.max(0, Math.floor(y));
    const bottom = Math.min(view.height, Math.ceil(y + height));
    if (right <= left || bottom <= top) continue;
    bands.push(evenBand(top, bottom));
  }
  const merged = capBands(mergeBands(bands), MAX_BANDS);
  const rows = merged.reduce((n, b) => n + b.bottom - b.top, 0);
  return rows > view.height * WHOLE_SHARE ? null : merged;
}
