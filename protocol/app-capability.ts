// The capability rule: may this node run this app version, and does it have it
// warm? One place for the server's placement and the node's own check, so a
// node is never sent an app its owner refuses and never accepts one either.
import { isPublishedApp, type AppCapabilities } from './bundle.js';
import type { AppRef } from './session.js';

export function canRunApp(node: AppCapabilities, app: AppRef): boolean {
  if (!isPublishedApp(app)) {
    // Name and hash must both match: replicas of different versions would diverge.
    return node.apps.some((a) => a.name === app.name && a.hash === app.hash);
  }
  if (node.refusedBundles.includes(app.hash)) return false;
  const policy = node.appPolicy;
  switch (policy.kind) {
    case 'builtin':
      return false;
    case 'published':
      return true;
    case 'hashes':
      return policy.hashes.includes(app.hash);
    default: {
      const never: never = policy;
      return never;
    }
  }
}

/** Warm: a published bundle already in the node's cache, or a built-in app the node keeps loaded. */
export function isWarmFor(node: AppCapabilities & { warmApps: readonly string[] }, app: AppRef): boolean {
  return isPublishedApp(app) ? node.warmBundles.includes(app.hash) : node.warmApps.includes(app.name);
}
