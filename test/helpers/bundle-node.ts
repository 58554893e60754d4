// A renderer node for the published-app tests: its own bundle cache in a temp
// dir (removed by the caller with the others it collects) and info logs, which
// the tests read for fetches, refusals and app failures.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type Proc } from './processes.js';

export async function startBundleNode(opts: {
  url: string;
  hostId: string;
  /** LOCKSTEP_APPS: builtin, published or hashes. */
  apps: string;
  /** The node's cache dir is added here, for the caller to remove. */
  cacheDirs: string[];
  env?: Record<string, string>;
}): Promise<Proc> {
  const cacheDir = mkdtempSync(join(tmpdir(), `lockstep-bundles-${opts.hostId}-`));
  opts.cacheDirs.push(cacheDir);
  return startNode({
    url: opts.url,
    hostId: opts.hostId,
    env: { LOCKSTEP_APPS: opts.apps, LOCKSTEP_BUNDLE_CACHE_DIR: cacheDir, LOCKSTEP_LOG_LEVEL: 'info', ...opts.env },
  });
}
