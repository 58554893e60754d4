// The SDK host of a renderer node: surfaces are node-canvas canvases, fonts
// the families declared by the loaded apps' manifests.
import { createCanvas } from 'canvas';
import { loadDeclaredFont } from '../fonts.js';
import type { Surface } from '../sdk/drawing.js';
import { installSdkHost, type SdkHost } from '../sdk/host.js';

export const nodeCanvasHost: SdkHost = {
  // A node-canvas Canvas has the SDK Surface's shape (width, height, getContext('2d')).
  createSurface: (width, height) => createCanvas(width, height) as unknown as Surface,
  loadFont: loadDeclaredFont,
};

let installed = false;

/** Makes this process's SDK calls draw with node-canvas (idempotent). */
export function installNodeCanvasHost(): void {
  if (installed) return;
  installSdkHost(nodeCanvasHost);
  installed = true;
}
