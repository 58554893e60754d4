// One frame of an in-process app state the way a replica renders it
// (render/replica.ts): the renderer's FrameInfo goes to the app, whose damage
// report makes the renderer read back only the rows that changed.
import type { App } from '../../render/app-types.js';
import type { FrameRenderer, RenderedFrame } from '../../render/frame-renderer.js';

export function replicaFrame<S>(renderer: FrameRenderer, app: App<S>, state: S, seq: number): RenderedFrame {
  const view = app.viewport(state);
  const info = renderer.nextFrame(view);
  return renderer.render(view, seq, (ctx) => app.render(state, ctx, info), info);
}
