// Reads an app folder's manifest (`app.json`). Kept apart from the loader so
// the server can read titles without loading node-canvas.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppInputs } from '../protocol/app-inputs.js';
import type { Viewport } from './sdk/app-definition.js';
import { parseManifest, type AppManifest } from './sdk/manifest.js';

/** The built-in apps, by folder name under render/apps/. */
export const BUILTIN_APP_NAMES = ['writer', 'paint', 'sheet'] as const;

/** Reads and validates `<dir>/app.json`. */
export function readManifest(dir: string): AppManifest {
  return parseManifest(readFileSync(join(dir, 'app.json'), 'utf8'));
}

/** What the manifest says about the inputs the app reads, as SessionInfo carries it. */
export function appInputsOf(manifest: AppManifest): AppInputs {
  return { keyUps: manifest.keyUps, touch: manifest.touch };
}

/** A requested surface size rounded and clamped into the sizes the manifest supports. */
export function surfaceFor(manifest: AppManifest, viewport: Viewport): Viewport {
  const { surface } = manifest;
  const clamp = (v: number, min: number, max: number): number => Math.max(min, Math.min(Math.round(v), max));
  return {
    width: clamp(viewport.width, surface.minWidth, surface.maxWidth),
    height: clamp(viewport.height, surface.minHeight, surface.maxHeight),
  };
}
