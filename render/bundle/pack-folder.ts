// `lockstep app publish`'s packing: an app folder → bundle bytes + hash. The
// code is compiled once here (esbuild, as the sandbox runs it), so nodes need no
// bundler, and the bytes depend only on the folder's files and the SDK.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleApp } from '../sandbox/bundle-app.js';
import { MANIFEST_PATH, bundleHashOf, decodeBundle, encodeBundle } from './app-bundle.js';

export interface PackedBundle {
  name: string;
  version: string;
  hash: string;
  bytes: Buffer;
}

export function packAppFolder(dir: string): PackedBundle {
  const { manifest, code } = bundleApp(dir);
  const fonts = new Map<string, Buffer>();
  for (const f of manifest.fonts) if ('file' in f) fonts.set(f.file, readFileSync(join(dir, f.file)));
  const bytes = encodeBundle(readFileSync(join(dir, MANIFEST_PATH), 'utf8'), code, fonts);
  // What the server and every node will check: refuse here first, with the same message.
  decodeBundle(bytes);
  return { name: manifest.name, version: manifest.version, hash: bundleHashOf(bytes), bytes };
}
