// An app's document as a file: the formats its manifest lists, `png` rendered
// here from the state, the others from the app's own exportDocument.
import { createCanvas, type CanvasRenderingContext2D } from 'canvas';
import type { App, AppViewport, ExportedDocument } from './app-types.js';
import { ExportError } from './errors.js';
import { EXPORT_FORMATS, type AppManifest, type ExportFormat } from './sdk/manifest.js';

/** `format` if the manifest offers it; an ExportError otherwise. */
export function offeredFormat(manifest: AppManifest, format: string): ExportFormat {
  const offered = manifest.exports.find((f) => f === format);
  if (!offered) {
    throw new ExportError(`${manifest.name} exports ${manifest.exports.join(', ') || 'nothing'}, not "${format}"`, {
      format,
    });
  }
  return offered;
}

/** A PNG of what `draw` paints on a surface of `view`. */
export function pngDocument(view: AppViewport, draw: (ctx: CanvasRenderingContext2D) => void): ExportedDocument {
  const canvas = createCanvas(view.width, view.height);
  draw(canvas.getContext('2d'));
  return { format: 'png', mime: EXPORT_FORMATS.png, bytes: canvas.toBuffer('image/png') };
}

/** Bytes an app produced for `format`, as an exported document. */
export function appDocument(format: ExportFormat, bytes: Uint8Array): ExportedDocument {
  return {
    format,
    mime: EXPORT_FORMATS[format],
    bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}

export function exportDocument<S>(
  app: Pick<App<S>, 'viewport' | 'render'>,
  manifest: AppManifest,
  state: S,
  format: string,
  fromApp: ((state: S, format: ExportFormat) => Uint8Array) | undefined,
): ExportedDocument {
  const offered = offeredFormat(manifest, format);
  if (offered === 'png') return pngDocument(app.viewport(state), (ctx) => app.render(state, ctx));
  if (!fromApp) throw new ExportError(`${manifest.name} lists "${format}" but has no exportDocument`, { format });
  return appDocument(offered, fromApp(state, offered));
}
