// A node's on-disk cache of published bundles: <dir>/<hash>.bundle, bounded by
// bytes, least recently used evicted first. Use order survives restarts through
// the files' mtimes (touched on every use). Every read is verified against the
// hash in its name, so a damaged or planted file is dropped, never loaded.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleHashSchema } from '../../protocol/bundle.js';
import { getLogger } from '../../protocol/logger.js';
import { bundleHashOf } from './app-bundle.js';
import { BundleHashError } from './errors.js';

const log = getLogger('bundle-cache');

interface Entry {
  size: number;
  usedAt: number;
}

export class BundleCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #now: () => number;
  /** hash → entry; iteration order is not use order (usedAt is). */
  readonly #entries = new Map<string, Entry>();

  private constructor(dir: string, maxBytes: number, now: () => number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#now = now;
  }

  /** Opens (creating) the cache folder and indexes what is there; anything not named <sha-256>.bundle is ignored. */
  static open(dir: string, maxBytes: number, now: () => number = Date.now): BundleCache {
    mkdirSync(dir, { recursive: true });
    const cache = new BundleCache(dir, maxBytes, now);
    for (const file of readdirSync(dir)) {
      const hash = file.endsWith('.bundle') ? file.slice(0, -'.bundle'.length) : '';
      if (!BundleHashSchema.safeParse(hash).success) continue;
      const st = statSync(join(dir, file));
      cache.#entries.set(hash, { size: st.size, usedAt: st.mtimeMs });
    }
    cache.#evict(null);
    return cache;
  }

  #path(hash: string): string {
    return join(this.#dir, `${hash}.bundle`);
  }

  get bytes(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.size;
    return n;
  }

  /** Cached hashes, most recently used first: what the node advertises as warm. */
  hashes(): string[] {
    return [...this.#entries.entries()].sort((a, b) => b[1].usedAt - a[1].usedAt).map(([h]) => h);
  }

  has(hash: string): boolean {
    return this.#entries.has(hash);
  }

  /** The verified bytes, or null (not cached, or the file no longer matches its hash: then it is removed). */
  get(hash: string): Buffer | null {
    const entry = this.#entries.get(hash);
    if (!entry) return null;
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.#path(hash));
    } catch (err) {
      log.warn({ hash, err: err instanceof Error ? err.message : String(err) }, 'cached bundle unreadable; dropped');
      this.#drop(hash);
      return null;
    }
    if (bundleHashOf(bytes) !== hash) {
      log.warn({ hash }, 'cached bundle does not match its hash; dropped');
      this.#drop(hash);
      return null;
    }
    this.#touch(hash, entry);
    return bytes;
  }

  /** Stores verified bytes (throws BundleHashError otherwise), then evicts the least recently used beyond the bound. */
  put(hash: string, bytes: Buffer): void {
    if (bundleHashOf(bytes) !== hash) throw new BundleHashError(`refusing to cache bytes that do not hash to ${hash}`);
    if (bytes.length > this.#maxBytes) {
      log.warn(
        { hash, size: bytes.length, maxBytes: this.#maxBytes },
        'bundle larger than the whole cache; not cached',
      );
      return;
    }
    const tmp = `${this.#path(hash)}.tmp-${process.pid}`;
    // The folder may have been cleaned away under a running node.
    mkdirSync(this.#dir, { recursive: true });
    writeFileSync(tmp, bytes);
    renameSync(tmp, this.#path(hash));
    const entry = { size: bytes.length, usedAt: 0 };
    this.#entries.set(hash, entry);
    this.#touch(hash, entry);
    this.#evict(hash);
  }

  #touch(hash: string, entry: Entry): void {
    // Strictly increasing, so two uses within one clock tick still order.
    const latest = Math.max(0, ...[...this.#entries.values()].map((e) => e.usedAt));
    entry.usedAt = Math.max(this.#now(), latest + 1);
    try {
      const t = new Date(entry.usedAt);
      utimesSync(this.#path(hash), t, t);
    } catch {
      // Order is kept in memory anyway; only a restart would see the older time.
    }
  }

  #drop(hash: string): void {
    this.#entries.delete(hash);
    rmSync(this.#path(hash), { force: true });
  }

  /** Least recently used first, never `keep` (the bundle just stored, about to be loaded). */
  #evict(keep: string | null): void {
    let total = this.bytes;
    for (const hash of this.hashes().reverse()) {
      if (total <= this.#maxBytes) break;
      if (hash === keep) continue;
      total -= this.#entries.get(hash)?.size ?? 0;
      log.info({ hash }, 'bundle evicted from the cache');
      this.#drop(hash);
    }
  }
}
