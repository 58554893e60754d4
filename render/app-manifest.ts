// Reads an app folder's manifest (`app.json`). Kept apart from the loader so
// the server can read titles without loading node-canvas.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, type AppManifest } from './sdk/manifest.js';

/** Reads and validates `<dir>/app.json`. */
export function readManifest(dir: string): AppManifest {
  return parseManifest(readFileSync(join(dir, 'app.json'), 'utf8'));
}
