// A published app behind the sandbox, seen by the node as an ordinary App:
// each state is one AppInstance (its own worker and context), so replicas of
// different sessions share nothing, and a replica whose app hangs or throws
// loses only its own instance.
import { surfaceFor } from '../app-manifest.js';
import { exportDocument } from '../export-document.js';
import type { App } from '../app-types.js';
import { declareFont, loadDeclaredFont } from '../fonts.js';
import type { AppManifest } from '../sdk/manifest.js';
import { AppInstance } from './app-instance.js';
import { AppCodeError } from './errors.js';
import { fontTableJson } from './font-table.js';
import type { SandboxLimits } from './sandbox-limits.js';

export interface SandboxedAppOptions {
  manifest: AppManifest;
  /** The bundle's JavaScript (an IIFE assigning `__lockstepApp`, see bundle-app.ts). */
  bundle: string;
  /** Font family → font file, for every family in the manifest. */
  fonts: ReadonlyMap<string, string>;
  limits: SandboxLimits;
}

export function sandboxedApp(opts: SandboxedAppOptions): App<AppInstance> {
  const { manifest, bundle, limits } = opts;
  // Replayed drawing sets `ctx.font` to these families: node-canvas must know them.
  for (const [family, path] of opts.fonts) {
    declareFont(family, path);
    loadDeclaredFont(family);
  }
  const fontsJson = fontTableJson(opts.fonts);
  const start = (op: 'init' | 'restore', arg: string): AppInstance => {
    const instance = AppInstance.start({ app: manifest.name, bundle, fontsJson, limits });
    try {
      instance.call(op, arg);
    } catch (err) {
      instance.dispose();
      throw err;
    }
    return instance;
  };
  const app: App<AppInstance> = {
    name: manifest.name,
    title: manifest.title,
    init: (viewport) => start('init', JSON.stringify(surfaceFor(manifest, viewport))),
    apply(instance, input) {
      instance.call('apply', JSON.stringify(input));
      return instance;
    },
    viewport: (instance) => instance.viewport,
    render(instance, ctx) {
      instance.replayer.replay(instance.call('render'), ctx);
    },
    snapshot: (instance) => Buffer.from(instance.call('snapshot'), 'latin1'),
    restore: (data) => start('restore', Buffer.from(data).toString('latin1')),
    copyText(instance) {
      const text: unknown = JSON.parse(instance.call('copyText'));
      if (text !== null && typeof text !== 'string') throw new AppCodeError('copyText did not return text');
      return text;
    },
    // Parsed by the replica like any app's answer (protocol/selection.ts).
    selectionGeometry: (instance): unknown => JSON.parse(instance.call('selection')),
    exportDocument: (instance, format) =>
      exportDocument(app, manifest, instance, format, (i, f) => Buffer.from(i.call('export', f), 'latin1')),
    dispose: (instance) => instance.dispose(),
  };
  return app;
}
