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
