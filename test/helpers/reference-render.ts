// Renders the ground truth a video frame must match: an app's state rebuilt
// from a session's durable record (scripts/lib/reference-state.ts) or from a
// log, drawn with the same app code the replicas run.
import type { SequencedInput } from '../../protocol/input.js';
import { getApp } from '../../render/apps/index.js';
import { replay } from '../../scripts/lib/reference-state.js';
import { renderRgba } from './app-driver.js';

export { fetchLog, fetchSnapshot, referenceState, type StoredSnapshotJson } from '../../scripts/lib/reference-state.js';

export function renderState(appName: string, state: unknown): Uint8ClampedArray {
  return renderRgba(getApp(appName), state);
}

export function referenceRender(
  appName: string,
  width: number,
  height: number,
  inputs: readonly SequencedInput[],
): Uint8ClampedArray {
  const app = getApp(appName);
  return renderRgba(app, replay(app, app.init({ width, height }), inputs));
}
