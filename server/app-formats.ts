// Which files an app's sessions export to and start from, and which inputs
// they read: its manifest's `exports`, `imports`, `keyUps` and `touch`, read from
// the built-in manifests or, for a published app, from the manifest of the
// bundle the server stores.
import { DEFAULT_APP_INPUTS, type AppInputs } from '../protocol/app-inputs.js';
import { isPublishedApp, parseAppSpec } from '../protocol/bundle.js';
import type { ExportFormat } from '../protocol/export-formats.js';
import type { ImportFormat } from '../protocol/input.js';
import type { AppRef } from '../protocol/session.js';
import { APP_TITLES, appForImport, builtinInputsOf, exportFormatsOf, importsFormat } from '../render/app-catalog.js';
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

  /**
   * The inputs a session's pinned app reads. A published app whose bundle this
   * server does not hold gets everything (the default): delivering what an app
   * ignores costs a log write, dropping what it reads would change its behaviour.
   */
  inputsOf(app: AppRef): AppInputs {
    if (!isPublishedApp(app)) return builtinInputsOf(app.name);
    return this.#bundles?.get(app.hash)?.inputs ?? DEFAULT_APP_INPUTS;
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
