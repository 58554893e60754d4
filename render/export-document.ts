// An app's document as a file: the formats its manifest lists, `png` rendered
// here from the state, the others from the app's own exportDocument.
import { createCanvas } from 'canvas';
import type { App, ExportedDocument } from './app-types.js';
import { ExportError } from './errors.js';
import { EXPORT_FORMATS, type AppManifest, type ExportFormat } from './sdk/manifest.js';

export function exportDocument<S>(
  app: Pick<App<S>, 'viewport' | 'render'>,
  manifest: AppManifest,
  state: S,
  format: string,
  fromApp: ((state: S, format: ExportFormat) => Uint8Array) | undefined,
): ExportedDocument {
  const offered = manifest.exports.find((f) => f === format);
  if (!offered) {
    throw new ExportError(`${manifest.name} exports ${manifest.exports.join(', ') || 'nothing'}, not "${format}"`, {
      format,
    });
  }
  const mime = EXPORT_FORMATS[offered];
  if (offered === 'png') {
    const { width, height } = app.viewport(state);
    const canvas = createCanvas(width, height);
    app.render(state, canvas.getContext('2d'));
    return { format: offered, mime, bytes: canvas.toBuffer('image/png') };
  }
  if (!fromApp) throw new ExportError(`${manifest.name} lists "${format}" but has no exportDocument`, { format });
  const bytes = fromApp(state, offered);
  return { format: offered, mime, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}
