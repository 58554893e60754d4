// The embedded bundle store: files under <data dir>/bundles, one <hash>.bundle
// per app version and a <hash>.json beside it (publisher, time). Files and not
// SQLite rows: bundles are immutable blobs of up to 8 MiB, named by their own
// hash, so write-once files (temp file, fsync, rename) are consistent without
// transactions, and they stay out of the input log's WAL and group commits.
// `lockstep db backup` copies the database only: back up the bundles folder too.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { PublishedAppInfo } from '../protocol/bundle.js';
import { BundleHashSchema } from '../protocol/bundle.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import { appInputsOf, BUILTIN_APP_NAMES } from '../render/app-manifest.js';
import { verifyBundle } from '../render/bundle/app-bundle.js';
import { RenderError } from '../render/errors.js';
import { BundleRejectedError, BundleTooLargeError } from './bundle-errors.js';
import type { BundleStore } from './bundle-store.js';
import { ConflictError, NotFoundError } from './errors.js';

const log = getLogger('bundle-store');

const MetaSchema = z
  .object({ publisher: z.string().min(1).max(LIMITS.maxIdLength), publishedAt: z.number().int().min(0) })
  .strict();

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function writeDurably(path: string, data: Buffer | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export class FileBundleStore implements BundleStore {
  readonly #dir: string;
  readonly #now: () => number;
  readonly #apps = new Map<string, PublishedAppInfo>();

  private constructor(dir: string, now: () => number) {
    this.#dir = dir;
    this.#now = now;
  }

  /** Opens (creating) `<dataDir>/bundles` and indexes what is there; unreadable entries are logged and skipped. */
  static open(dataDir: string, now: () => number = Date.now): FileBundleStore {
    const dir = join(dataDir, 'bundles');
    mkdirSync(dir, { recursive: true });
    const store = new FileBundleStore(dir, now);
    for (const file of readdirSync(dir)) {
      const hash = file.endsWith('.bundle') ? file.slice(0, -'.bundle'.length) : null;
      if (hash === null || !BundleHashSchema.safeParse(hash).success) continue;
      try {
        const bytes = readFileSync(join(dir, file));
        const meta = MetaSchema.parse(JSON.parse(readFileSync(join(dir, `${hash}.json`), 'utf8')));
        store.#index(hash, bytes, meta.publisher, meta.publishedAt);
      } catch (err) {
        log.error({ hash, err: err instanceof Error ? err.message : String(err) }, 'stored bundle unreadable; skipped');
      }
    }
    return store;
  }

  #index(hash: string, bytes: Buffer, publisher: string, publishedAt: number): PublishedAppInfo {
    const { manifest } = verifyBundle(bytes, hash);
    const info: PublishedAppInfo = {
      name: manifest.name,
      title: manifest.title,
      version: manifest.version,
      hash,
      size: bytes.length,
      publisher,
      publishedAt,
      exports: [...manifest.exports],
      imports: [...manifest.imports],
      inputs: appInputsOf(manifest),
    };
    this.#apps.set(hash, info);
    return info;
  }

  publish(bytes: Buffer, hash: string, publisher: string): PublishedAppInfo {
    if (bytes.length > LIMITS.maxBundleBytes) {
      throw new BundleTooLargeError(`bundle is ${bytes.length} bytes; at most ${LIMITS.maxBundleBytes}`, {
        size: bytes.length,
      });
    }
    const existing = this.#apps.get(hash);
    if (existing) return existing;
    let manifest;
    try {
      ({ manifest } = verifyBundle(bytes, hash));
    } catch (err) {
      if (err instanceof RenderError) throw new BundleRejectedError(err.message, { hash });
      throw err;
    }
    if ((BUILTIN_APP_NAMES as readonly string[]).includes(manifest.name)) {
      throw new BundleRejectedError(`"${manifest.name}" is a built-in app's name; publish under another`, { hash });
    }
    const clash = this.resolve(manifest.name, manifest.version);
    if (clash) {
      throw new ConflictError(
        `${manifest.name}@${manifest.version} is already published as ${clash.hash}; bump the version`,
        { hash, existing: clash.hash },
      );
    }
    const publishedAt = this.#now();
    // Metadata first: a bundle file is indexed only with its metadata present.
    writeDurably(join(this.#dir, `${hash}.json`), JSON.stringify({ publisher, publishedAt }));
    writeDurably(join(this.#dir, `${hash}.bundle`), bytes);
    const info = this.#index(hash, bytes, publisher, publishedAt);
    log.info({ name: info.name, version: info.version, hash, size: info.size, publisher }, 'bundle published');
    return info;
  }

  get(hash: string): PublishedAppInfo | null {
    return this.#apps.get(hash) ?? null;
  }

  read(hash: string, offset: number, length: number): Buffer {
    const info = this.#apps.get(hash);
    const path = join(this.#dir, `${hash}.bundle`);
    if (!info || !existsSync(path)) throw new NotFoundError(`no published bundle ${hash}`, { hash });
    const n = Math.max(0, Math.min(length, info.size - offset));
    const out = Buffer.alloc(n);
    const fd = openSync(path, 'r');
    try {
      let got = 0;
      while (got < n) {
        const r = readSync(fd, out, got, n - got, offset + got);
        if (r === 0) break;
        got += r;
      }
      return out.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  }

  resolve(name: string, version?: string): PublishedAppInfo | null {
    const candidates = [...this.#apps.values()].filter(
      (a) => a.name === name && (version === undefined || a.version === version),
    );
    candidates.sort((a, b) => compareVersions(b.version, a.version));
    return candidates[0] ?? null;
  }

  list(): PublishedAppInfo[] {
    return [...this.#apps.values()].sort((a, b) =>
      a.name === b.name ? compareVersions(a.version, b.version) : a.name < b.name ? -1 : 1,
    );
  }
}
