// Imported first by the built-in app index: installs the node-canvas SDK host
// and declares the built-in apps' fonts before any app module evaluates (app
// modules may load fonts at the top level).
import { fileURLToPath } from 'node:url';
import { BUILTIN_APP_NAMES, readManifest } from '../app-manifest.js';
import { declareAppFonts } from '../sdk-app.js';
import { installNodeCanvasHost } from '../sdk-host/node-canvas-host.js';

export const builtinAppDir = (name: string): string => fileURLToPath(new URL(`./${name}/`, import.meta.url));

installNodeCanvasHost();
for (const name of BUILTIN_APP_NAMES) {
  const dir = builtinAppDir(name);
  declareAppFonts(readManifest(dir), dir);
}
