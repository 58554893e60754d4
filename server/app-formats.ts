// Which files an app's sessions export to and start from: its manifest's
// `exports` and `imports`, read from the built-in manifests or, for a
// published app, from the manifest of the bundle the server stores.
import { isPublishedApp, parseAppSpec } from '../protocol/bundle.js';
import type { ExportFormat } from '../protocol/export-formats.js';
import type { ImportFormat } from '../protocol/input.js';
import type { AppRef } from '../protocol/session.js';
import { APP_TITLES, appForImport, exportFormatsOf, importsFormat } from '../render/app-catalog.js';
import type { BundleStore } from './bundle-store.js';

export class AppFormats {
  readonly #bundles: BundleStore | undefined;

  constructor(bundles: BundleStore | undefined) {
    this.#bundles = bundles;
  }

  /** The formats a session's pinned app exports. */
  exportsOf(app: AppRef): ExportFormat[] {
    if (!isPublishedApp(app)) return exportFormatsOf(app);
    return [...(this.#bundles?.get(app.hash)?.exports ?? [])];
  }

  /** Whether the app named by `spec` (built-in name, published name[@version] or hash) imports `format`. */
  imports(spec: string, format: ImportFormat): boolean {
    if (APP_TITLES[spec] !== undefined) return importsFormat(spec, format);
    const s = parseAppSpec(spec);
    const info =
      s.kind === 'hash'
        ? this.#bundles?.get(s.hash)
        : this.#bundles?.resolve(s.name, s.kind === 'version' ? s.version : undefined);
    return info?.imports.includes(format) ?? false;
  }

  /** The built-in app a file of `format` goes into when the request names none. */
  defaultFor(format: ImportFormat): string | undefined {
    return appForImport(format);
  }
}
