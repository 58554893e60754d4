// Keys the viewer keeps for itself (never sent to the app): the stats
// overlay and fullscreen. Pure, for tests. F11 stays the browser's own.
import type { KeyLike } from './key-mapping.js';

export type ViewerShortcut = 'stats' | 'fullscreen';

export function viewerShortcut(e: KeyLike): ViewerShortcut | null {
  if (e.repeat) return null;
  const accel = e.ctrlKey || e.metaKey;
  // F2, or Ctrl+Shift+S (Cmd+Shift+S) where F-keys are awkward (laptops, macOS).
  if (e.key === 'F2' && !accel && !e.altKey) return 'stats';
  if (accel && e.shiftKey && !e.altKey && e.code === 'KeyS') return 'stats';
  // Ctrl+Shift+F (Cmd+Shift+F): by physical key, so it works on any layout.
  if (accel && e.shiftKey && !e.altKey && e.code === 'KeyF') return 'fullscreen';
  return null;
}
