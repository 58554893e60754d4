// The app interface. An app is a deterministic state machine: the same input
// log gives the same state, the same hash and the same pixels on every host.
// Apps never read clocks, randomness or the network; time arrives in inputs.
import type { CanvasRenderingContext2D } from 'canvas';
import type { SequencedInput } from '../protocol/input.js';
import type { FrameInfo } from './sdk/damage.js';

export interface AppViewport {
  width: number;
  height: number;
}

export interface ExportedDocument {
  /** File name extension, e.g. "csv". */
  format: string;
  mime: string;
  bytes: Buffer;
}

export interface App<S> {
  /** Stable identifier, also the folder name under render/apps/. */
  readonly name: string;
  /** Human title for the viewer's app picker. */
  readonly title: string;
  init(viewport: AppViewport): S;
  /** Deterministic transition; may mutate `state` and return it. */
  apply(state: S, input: SequencedInput): S;
  /** Current surface size (changes only through `resize` inputs). */
  viewport(state: S): AppViewport;
  /** Draws the whole surface (viewport size) at the context origin; with `frame`, may answer its damage (AppDefinition.render). */
  render(state: S, ctx: CanvasRenderingContext2D, frame?: FrameInfo): unknown;
  /** Canonical bytes: equal states give equal bytes. */
  snapshot(state: S): Buffer;
  restore(data: Buffer): S;
  /** A digest of the state, kept current more cheaply than a snapshot (see render/app-hash.ts). */
  stateDigest?(state: S): Buffer;
  /** Text the app offers to the viewer's clipboard (the selection), if any. */
  copyText?(state: S): string | null;
  /**
   * The selection's ends on the surface, for touch handles: an app's unchecked answer (a
   * SelectionGeometry or null), parsed by the replica with protocol/selection.ts.
   */
  selectionGeometry?(state: S): unknown;
  /** The document as a file (formats from the manifest's `exports`); throws ExportError for any other. */
  exportDocument?(state: S, format: string): ExportedDocument;
  /** Releases what a state holds outside the JS heap (a sandboxed app's worker) once the replica drops it. */
  dispose?(state: S): void;
}
