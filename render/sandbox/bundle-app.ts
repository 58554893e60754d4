// Packs an app folder into one JavaScript bundle for the sandbox: the entry
// module, its own files and the pure libraries it imports, with the SDK
// (`@lockstep/sdk`, or a relative import of render/sdk/) compiled in. Node
// built-ins do not resolve: an app that imports one does not bundle.
import { buildSync } from 'esbuild';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifest } from '../app-manifest.js';
import type { AppManifest } from '../sdk/manifest.js';
import { AppCodeError } from './errors.js';

const SDK_ENTRY = fileURLToPath(new URL('../sdk/index.ts', import.meta.url));

export interface AppBundle {
  manifest: AppManifest;
  code: string;
}

export function bundleApp(dir: string): AppBundle {
  const manifest = readManifest(dir);
  let result;
  try {
    result = buildSync({
      entryPoints: [join(resolve(dir), manifest.entry)],
      bundle: true,
      format: 'iife',
      globalName: '__lockstepApp',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      target: 'es2022',
      write: false,
      // Module comments name paths relative to this: the app folder, not the caller's cwd, so the output
      // (and a published bundle's hash) does not depend on where the command ran.
      absWorkingDir: resolve(dir),
      logLevel: 'silent',
      alias: { '@lockstep/sdk': SDK_ENTRY },
      legalComments: 'none',
      charset: 'utf8',
    });
  } catch (err) {
    const errors = (err as { errors?: { text: string }[] }).errors ?? [];
    const first = errors[0]?.text ?? (err instanceof Error ? err.message : String(err));
    throw new AppCodeError(`app ${manifest.name} does not bundle: ${first}`, { app: manifest.name });
  }
  const out = result.outputFiles[0];
  if (!out) throw new AppCodeError(`app ${manifest.name}: the bundler produced nothing`);
  return { manifest, code: out.text };
}
