// Published app bundles, content-addressed: the interface the server uses, so a
// cluster store (etcd) can stand in for the embedded one (file-bundle-store.ts).
import type { PublishedAppInfo } from '../protocol/bundle.js';

export interface BundleStore {
  /**
   * Verifies `bytes` against `hash` (the publisher's claim) and the bundle's
   * structure and manifest, then stores it. Idempotent for the same bytes; a
   * name@version already published with other bytes is a conflict.
   */
  publish(bytes: Buffer, hash: string, publisher: string): PublishedAppInfo;
  get(hash: string): PublishedAppInfo | null;
  /** Up to `length` bytes of the bundle from `offset` (what a node's `bundle.fetch` reads). */
  read(hash: string, offset: number, length: number): Buffer;
  /** The highest version of `name`, or exactly `version`. */
  resolve(name: string, version?: string): PublishedAppInfo | null;
  /** Every published app, by name then version. */
  list(): PublishedAppInfo[];
}
