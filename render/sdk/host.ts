// The SDK's capabilities (surfaces and fonts) are provided by whoever runs the
// app: the renderer node, or a sandbox. The host is looked up under a global
// symbol, so an app that bundles its own copy of the SDK finds the same host.
import type { Surface } from './drawing.js';
import { NoHostError } from './errors.js';
import type { Font } from './fonts.js';

export interface SdkHost {
  createSurface(width: number, height: number): Surface;
  loadFont(family: string): Font;
}

const HOST_KEY = Symbol.for('lockstep.sdk.host');

type HostSlot = { [HOST_KEY]?: SdkHost };

/** Installs the host the SDK functions delegate to (renderer nodes and sandboxes call this once). */
export function installSdkHost(host: SdkHost): void {
  (globalThis as HostSlot)[HOST_KEY] = host;
}

function host(): SdkHost {
  const h = (globalThis as HostSlot)[HOST_KEY];
  if (!h) throw new NoHostError('no Lockstep SDK host is installed in this process');
  return h;
}

/** A new offscreen raster of whole pixels (at least 1×1). */
export function createSurface(width: number, height: number): Surface {
  return host().createSurface(Math.max(1, Math.ceil(width)), Math.max(1, Math.ceil(height)));
}

/** A font family declared in the app's manifest (throws FontNotFoundError otherwise). */
export function loadFont(family: string): Font {
  return host().loadFont(family);
}
