// What a replica drives: the App interface with every call that runs app code
// asynchronous, because a sandboxed app answers from its own worker thread (the
// node's loop keeps serving other replicas meanwhile). Built-in apps run in
// process and are adapted here; their answers are ready at once.
import type { CanvasRenderingContext2D } from 'canvas';
import type { SequencedInput } from '../protocol/input.js';
import type { App, AppViewport, ExportedDocument } from './app-types.js';
import type { FrameInfo } from './sdk/damage.js';
import { ExportError } from './errors.js';

/**
 * Draws a prepared frame onto a context, synchronously (the replica owns the canvas meanwhile). Its answer is
 * the app's damage report (AppDefinition.render), unchecked: render/frame-damage.ts reads it.
 */
export type Painter = (ctx: CanvasRenderingContext2D) => unknown;

export interface ReplicaApp<S> {
  /** Marks the asynchronous interface (an App is adapted with toReplicaApp). */
  readonly async: true;
  readonly name: string;
  readonly title: string;
  init(viewport: AppViewport): Promise<S>;
  apply(state: S, input: SequencedInput): Promise<S>;
  /** Current surface size, known without calling app code (a sandboxed app reports it with each answer). */
  viewport(state: S): AppViewport;
  /** Prepares the frame of `state` (`frame`: what the target surface holds); the painter draws it (whole surface, at the origin). */
  render(state: S, frame?: FrameInfo): Promise<Painter>;
  snapshot(state: S): Promise<Buffer>;
  /** The app's state digest (AppDefinition.stateDigest), or null when it defines none; see app-hash.ts. */
  stateDigest(state: S): Promise<Buffer | null>;
  restore(data: Buffer): Promise<S>;
  copyText(state: S): Promise<string | null>;
  /** Where a non-empty selection's ends are (checked by the replica), for touch drag handles; absent: none. */
  selectionGeometry?(state: S): Promise<unknown>;
  /** The document as a file; rejects with ExportError for a format the app does not offer. */
  exportDocument(state: S, format: string): Promise<ExportedDocument>;
  dispose(state: S): void;
}

/** An in-process App as a ReplicaApp (a ReplicaApp is returned as it is). */
export function toReplicaApp<S>(app: App<S> | ReplicaApp<S>): ReplicaApp<S> {
  if ('async' in app) return app;
  const run = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return {
    async: true,
    name: app.name,
    title: app.title,
    init: (viewport) => run(() => app.init(viewport)),
    apply: (state, input) => run(() => app.apply(state, input)),
    viewport: (state) => app.viewport(state),
    render: (state, frame) => Promise.resolve((ctx) => app.render(state, ctx, frame)),
    snapshot: (state) => run(() => app.snapshot(state)),
    stateDigest: (state) => run(() => app.stateDigest?.(state) ?? null),
    restore: (data) => run(() => app.restore(data)),
    copyText: (state) => run(() => app.copyText?.(state) ?? null),
    ...(app.selectionGeometry ? { selectionGeometry: (state: S) => run(() => app.selectionGeometry?.(state)) } : {}),
    exportDocument: (state, format) =>
      run(() => {
        if (!app.exportDocument) throw new ExportError(`${app.name} exports nothing`, { format });
        return app.exportDocument(state, format);
      }),
    dispose: (state) => app.dispose?.(state),
  };
}
