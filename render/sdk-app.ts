// Loads an app written against the public SDK (render/sdk/) from its folder's
// manifest and entry module, and adapts it to the node's App interface.
import { join } from 'node:path';
import type { CanvasRenderingContext2D } from 'canvas';
import { surfaceFor } from './app-manifest.js';
import { exportDocument } from './export-document.js';
import type { App } from './app-types.js';
import { declareFont, PLATFORM_FONT_PATHS } from './fonts.js';
import type { AppDefinition } from './sdk/app-definition.js';
import type { DrawingContext } from './sdk/drawing.js';
import type { AppManifest } from './sdk/manifest.js';

/** The manifest's font families and their files (platform fonts, or files in the app folder). */
export function fontFilesOf(manifest: AppManifest, dir: string): Map<string, string> {
  return new Map(
    manifest.fonts.map((f) => [f.family, 'platform' in f ? PLATFORM_FONT_PATHS[f.platform] : join(dir, f.file)]),
  );
}

/** Declares the manifest's fonts for this process. */
export function declareAppFonts(manifest: AppManifest, dir: string): void {
  for (const [family, path] of fontFilesOf(manifest, dir)) declareFont(family, path);
}

function toBuffer(bytes: Uint8Array | undefined): Buffer {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('snapshot and stateDigest must return a Uint8Array');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The node-side view of an SDK app: Buffers for snapshots, node-canvas for drawing. */
export function adaptSdkApp<S>(manifest: AppManifest, definition: AppDefinition<S>): App<S> {
  const app: App<S> = {
    name: manifest.name,
    title: manifest.title,
    init: (viewport) => definition.init(surfaceFor(manifest, viewport)),
    apply: (state, input) => definition.apply(state, input),
    viewport: (state) => definition.viewport(state),
    // node-canvas's context is a superset of the SDK's DrawingContext.
    render: (state, ctx: CanvasRenderingContext2D, frame) =>
      definition.render(state, ctx as unknown as DrawingContext, frame),
    snapshot: (state) => toBuffer(definition.snapshot(state)),
    restore: (data) => definition.restore(data),
    ...(definition.stateDigest ? { stateDigest: (state: S) => toBuffer(definition.stateDigest?.(state)) } : {}),
    ...(definition.copyText ? { copyText: definition.copyText.bind(definition) } : {}),
    ...(definition.selectionGeometry ? { selectionGeometry: definition.selectionGeometry.bind(definition) } : {}),
    exportDocument: (state, format) =>
      exportDocument(app, manifest, state, format, definition.exportDocument?.bind(definition)),
  };
  return app;
}
