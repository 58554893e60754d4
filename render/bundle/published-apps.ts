// The published apps a node runs: found in the bundle cache or fetched from the
// server, verified against the hash the session pinned, and always loaded into
// the sandbox (render/sandbox/). One loaded App per hash, shared by the
// replicas of every session pinned to it; each replica still gets its own
// sandboxed instance.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getLogger } from '../../protocol/logger.js';
import type { AppRef } from '../../protocol/session.js';
import type { ReplicaApp } from '../replica-app.js';
import { AppVersionError } from '../errors.js';
import type { SandboxLimits } from '../sandbox/sandbox-limits.js';
import { sandboxedApp } from '../sandbox/sandboxed-app.js';
import { fontFilesOf } from '../sdk-app.js';
import { decodeBundle, type DecodedBundle } from './app-bundle.js';
import type { BundleCache } from './bundle-cache.js';
import { fetchBundle, type FetchChunk } from './bundle-fetch.js';

const log = getLogger('published-apps');

export interface PublishedAppsOptions {
  cache: BundleCache;
  fetchChunk: FetchChunk;
  limits: SandboxLimits;
  /** The cache's contents changed (a bundle stored, others evicted): advertise the new warm set. */
  onCacheChange?: (hashes: string[]) => void;
}

export class PublishedApps {
  readonly #opts: PublishedAppsOptions;
  readonly #loaded = new Map<string, Promise<ReplicaApp<unknown>>>();
  /** Font files extracted from bundles (node-canvas registers fonts by path); removed at close. */
  readonly #fontsDir: string;

  constructor(opts: PublishedAppsOptions) {
    this.#opts = opts;
    this.#fontsDir = mkdtempSync(join(tmpdir(), 'lockstep-bundle-fonts-'));
  }

  /** The App for exactly this name + bundle hash; throws a typed error (fetch, hash, format) otherwise. */
  load(ref: AppRef): Promise<ReplicaApp<unknown>> {
    let app = this.#loaded.get(ref.hash);
    if (!app) {
      app = this.#load(ref);
      this.#loaded.set(ref.hash, app);
      // A failure is not remembered: the next assignment tries again (the server may have been fixed).
      app.catch(() => this.#loaded.delete(ref.hash));
    }
    return app.then((a) => {
      if (a.name !== ref.name) {
        throw new AppVersionError(`bundle ${ref.hash} holds app "${a.name}", not "${ref.name}"`, { app: ref });
      }
      return a;
    });
  }

  async #load(ref: AppRef): Promise<ReplicaApp<unknown>> {
    const { cache } = this.#opts;
    const cached = cache.get(ref.hash);
    let bundle: DecodedBundle;
    if (cached) {
      bundle = decodeBundle(cached);
    } else {
      const fetched = await fetchBundle(ref.hash, this.#opts.fetchChunk);
      bundle = fetched.bundle;
      log.info({ app: ref.name, hash: ref.hash, size: fetched.bytes.length }, 'bundle fetched and verified');
      try {
        cache.put(ref.hash, fetched.bytes);
        this.#opts.onCacheChange?.(cache.hashes());
      } catch (err) {
        // Verified bytes run uncached (full disk, read-only folder); the next replica fetches again.
        log.warn({ hash: ref.hash, err: err instanceof Error ? err.message : String(err) }, 'bundle not cached');
      }
    }
    const dir = join(this.#fontsDir, ref.hash);
    for (const [path, bytes] of bundle.fontFiles) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    }
    return sandboxedApp({
      manifest: bundle.manifest,
      bundle: bundle.code,
      fonts: fontFilesOf(bundle.manifest, dir),
      limits: this.#opts.limits,
    });
  }

  close(): void {
    rmSync(this.#fontsDir, { recursive: true, force: true });
  }
}
