// What an app module exports: a deterministic state machine. The same input
// log gives the same state, the same snapshot bytes and the same pixels on
// every host. Everything an app may use from its host arrives through this SDK.
import type { FrameInfo, Rect } from './damage.js';
import type { DrawingContext } from './drawing.js';
import type { AppInput } from './input.js';
import type { ExportFormat } from './manifest.js';
import type { SelectionGeometry } from './selection.js';

/** The app surface in CSS pixels. */
export interface Viewport {
  width: number;
  height: number;
}

export interface AppDefinition<S> {
  /** The first state, for a surface of `viewport` (already within the manifest's bounds). */
  init(viewport: Viewport): S;
  /** Deterministic transition; may mutate `state` and return it. `input.time` is the only clock. */
  apply(state: S, input: AppInput): S;
  /** Current surface size (changes only through `resize` inputs). */
  viewport(state: S): Viewport;
  /**
   * Draws the whole surface (viewport size) at the context origin. With `frame`, it may return the rectangles
   * whose pixels can differ from frame `frame.over` (the frame of this state it drew last, which the host's
   * surface still shows): the host then reads back only those rows. Nothing returned, or anything invalid,
   * means the whole surface. Damage is a hint about pixels only: it never reaches the state or its hash.
   */
  render(state: S, ctx: DrawingContext, frame?: FrameInfo): readonly Rect[] | undefined | void;
  /** Canonical bytes: equal states give equal bytes (replicas compare their hashes). */
  snapshot(state: S): Uint8Array;
  /** The inverse of `snapshot`; must validate, because the bytes may come from another host. */
  restore(data: Uint8Array): S;
  /**
   * A digest of the whole state, cheaper to keep current than `snapshot` (e.g. a hash tree over parts whose
   * digests the app caches). Replicas report it, hashed, instead of hashing the snapshot after every input
   * (docs/apps.md, "State hash"). Equal states must give equal digests however they were reached (restored or
   * replayed), and different states different ones: build it with the SDK's `sha256` over all of the state.
   */
  stateDigest?(state: S): Uint8Array;
  /** Text the app offers to the viewer's clipboard (its selection), if any. */
  copyText?(state: S): string | null;
  /**
   * Where the ends of a non-empty selection are on the surface (caret x, line top and height, in surface
   * pixels), or null when nothing is selected. Touch viewers draw drag handles there; dragging one sends
   * pointer inputs (see docs/apps.md). Only positions UI: derive it from the state, like `render`.
   */
  selectionGeometry?(state: S): SelectionGeometry | null;
  /**
   * The document as a file in `format`, one of the manifest's `exports` (except `png`, which the host makes
   * from `render`). Computed from the state alone, like everything else.
   */
  exportDocument?(state: S, format: ExportFormat): Uint8Array;
}

/** Identity helper that gives an app module's default export its type. */
export function defineApp<S>(definition: AppDefinition<S>): AppDefinition<S> {
  return definition;
}
