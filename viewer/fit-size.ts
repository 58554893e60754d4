// Fit to window: the app size that fills the space the stage has, as a
// resize input every replica applies. Pure arithmetic here, for tests.
import { LIMITS } from '../protocol/limits.js';

export interface Size {
  width: number;
  height: number;
}

/** Clamped to the protocol's viewport bounds and rounded down to even numbers (I420 wants even sizes). */
export function fitSize(availWidth: number, availHeight: number): Size {
  const even = (v: number, min: number, max: number): number => {
    const c = Math.max(min, Math.min(max, Math.floor(Number.isFinite(v) ? v : min)));
    return c - (c % 2);
  };
  return {
    width: even(availWidth, LIMITS.minViewport, LIMITS.maxViewportWidth),
    height: even(availHeight, LIMITS.minViewport, LIMITS.maxViewportHeight),
  };
}

/** Worth a resize input: differs from the current size by more than a rounding pixel or two. */
export function needsResize(current: Size, wanted: Size): boolean {
  return Math.abs(current.width - wanted.width) > 2 || Math.abs(current.height - wanted.height) > 2;
}

/**
 * The desktop page's height outside the stage (header, toolbar row, replica bar,
 * status line, margins): the stage's CSS height cap (`--stage-chrome`, set from
 * this) and fit to window both leave it. Small enough that a 720-row app shows
 * unscaled in a 900-px-tall window: a scaled video is redrawn, filtered, into
 * the page on every frame (the largest part of the viewer's CPU in software
 * compositing), and text reads sharper at 1:1.
 */
export const CHROME_BELOW_PX = 174;
const COMPACT_MARGIN_PX = 8;
/** The visual viewport this much shorter than the layout viewport: an on-screen keyboard is open. */
const KEYBOARD_MIN_PX = 120;

/** Where the stage is and what the browser shows, in CSS pixels. */
export interface FitSpace {
  fullscreen: boolean;
  /** A small screen (viewer.css's compact layout). */
  compact: boolean;
  wrapWidth: number;
  /** The stage container's height (used in fullscreen). */
  wrapHeight: number;
  /** The stage container's top in the document. */
  wrapTop: number;
  /** window.innerHeight: the layout viewport. */
  layoutHeight: number;
  /** visualViewport.height × scale: what is visible, less the on-screen keyboard (pinch zoom left out). */
  visibleHeight: number;
}

/** The on-screen keyboard takes the bottom of the visual viewport (the layout viewport stays). */
export function keyboardOpen(s: Pick<FitSpace, 'layoutHeight' | 'visibleHeight'>): boolean {
  return s.layoutHeight - s.visibleHeight > KEYBOARD_MIN_PX;
}

/**
 * The space to fit the app into. Desktop: the window below the header, above
 * the replica bar. Small screens: what is visible from the stage down (the
 * replica bar goes below the fold), or the whole visible height above an open
 * keyboard (the page then scrolls the stage to the top).
 */
export function fitArea(s: FitSpace): Size {
  if (s.fullscreen) return { width: s.wrapWidth, height: s.wrapHeight };
  if (!s.compact) return { width: s.wrapWidth, height: s.layoutHeight - CHROME_BELOW_PX };
  if (keyboardOpen(s)) return { width: s.wrapWidth, height: s.visibleHeight - COMPACT_MARGIN_PX };
  return { width: s.wrapWidth, height: s.visibleHeight - Math.max(0, s.wrapTop) - COMPACT_MARGIN_PX };
}
