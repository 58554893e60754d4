// App identity: name + content hash of everything that decides its state and
// pixels (its folder, the fonts, the SDK and its host). A session pins the hash at
// creation and only nodes with that exact hash may host its replicas.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_APP_INPUTS, type AppInputs } from '../protocol/app-inputs.js';
import type { ImportFormat } from '../protocol/input.js';
import type { AppRef } from '../protocol/session.js';
import { appInputsOf, BUILTIN_APP_NAMES, readManifest } from './app-manifest.js';
import type { AppManifest, ExportFormat } from './sdk/manifest.js';

const renderDir = dirname(fileURLToPath(import.meta.url));

const BUILTIN_MANIFESTS = new Map<string, AppManifest>(
  BUILTIN_APP_NAMES.map((name) => [name, readManifest(join(renderDir, 'apps', name))]),
);

/** Built-in apps with their human titles (from their manifests). */
export const APP_TITLES: Readonly<Record<string, string>> = Object.fromEntries(
  [...BUILTIN_MANIFESTS].map(([name, m]) => [name, m.title]),
);

/** The first built-in app that imports `format` (its manifest's `imports`). */
export function appForImport(format: ImportFormat): string | undefined {
  return [...BUILTIN_MANIFESTS].find(([, m]) => m.imports.includes(format))?.[0];
}

/** Whether the app imports `format`. */
export function importsFormat(app: string, format: ImportFormat): boolean {
  return BUILTIN_MANIFESTS.get(app)?.imports.includes(format) ?? false;
}

/** The file formats an app's document exports to (its manifest's list). */
export function exportFormatsOf(app: AppRef): ExportFormat[] {
  return [...(BUILTIN_MANIFESTS.get(app.name)?.exports ?? [])];
}

/** The inputs a built-in app reads (its manifest's `keyUps` and `touch`). */
export function builtinInputsOf(app: string): AppInputs {
  const m = BUILTIN_MANIFESTS.get(app);
  return m ? appInputsOf(m) : { ...DEFAULT_APP_INPUTS };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? listFiles(p) : [p];
    })
    .sort();
}

const cache = new Map<string, string>();

export function appContentHash(name: string): string {
  const cached = cache.get(name);
  if (cached) return cached;
  const files = [
    ...listFiles(join(renderDir, 'apps', name)),
    ...listFiles(join(renderDir, 'fonts')),
    ...listFiles(join(renderDir, 'sdk')),
    ...listFiles(join(renderDir, 'sdk-host')),
    join(renderDir, 'fonts.ts'),
    join(renderDir, 'sdk-app.ts'),
    join(renderDir, 'app-manifest.ts'),
    join(renderDir, 'app-types.ts'),
    join(renderDir, '..', 'protocol', 'input.ts'),
    join(renderDir, '..', 'protocol', 'export-formats.ts'),
  ];
  const h = createHash('sha256');
  for (const f of files) {
    h.update(relative(renderDir, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  // Test hook: makes this process look like a different build of every app,
  // so version pinning can be exercised without two checkouts.
  const salt = process.env.LOCKSTEP_TEST_APP_SALT;
  if (salt) h.update('\0salt\0').update(salt);
  const hash = h.digest('hex').slice(0, 16);
  cache.set(name, hash);
  return hash;
}

export function appCatalog(): AppRef[] {
  return Object.keys(APP_TITLES).map((name) => ({ name, hash: appContentHash(name) }));
}
