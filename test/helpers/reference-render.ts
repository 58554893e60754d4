// Rebuilds an app's state from a session's durable log with the same app code
// the replicas run, and renders it: the ground truth a video frame must match.
import { createCanvas } from 'canvas';
import type { SequencedInput } from '../../protocol/input.js';
import { getApp } from '../../render/apps/index.js';

export async function fetchLog(url: string, sessionId: string): Promise<SequencedInput[]> {
  const res = await fetch(`${url}/api/sessions/${sessionId}/log?from=1`);
  if (!res.ok) throw new Error(`log fetch ${res.status}`);
  return ((await res.json()) as { inputs: SequencedInput[] }).inputs;
}

export function referenceRender(
  appName: string,
  width: number,
  height: number,
  inputs: readonly SequencedInput[],
): Uint8ClampedArray {
  const app = getApp(appName);
  let state = app.init({ width, height });
  for (const input of inputs) state = app.apply(state, input);
  const view = app.viewport(state);
  const canvas = createCanvas(view.width, view.height);
  const ctx = canvas.getContext('2d');
  app.render(state, ctx);
  return ctx.getImageData(0, 0, view.width, view.height).data;
}
