// A sandboxed app straight from an app folder: bundle it, then load it in the
// sandbox (what `lockstep app check` and the sandbox tests run).
import type { ReplicaApp } from '../replica-app.js';
import { fontFilesOf } from '../sdk-app.js';
import type { AppInstance } from './app-instance.js';
import { bundleApp } from './bundle-app.js';
import type { SandboxLimits } from './sandbox-limits.js';
import { sandboxedApp } from './sandboxed-app.js';

export function sandboxedAppFromFolder(dir: string, limits: SandboxLimits): ReplicaApp<AppInstance> {
  const { manifest, code } = bundleApp(dir);
  return sandboxedApp({ manifest, bundle: code, fonts: fontFilesOf(manifest, dir), limits });
}
