// A live copy of every entry under one etcd prefix: a paged list at one
// revision, then a watch from the next, and a fresh list whenever the watch
// stream is re-established (events may have been compacted away meanwhile) or
// etcd cancels the watch. Each value goes through `open` (parse with zod,
// check its MAC): one that does not open is logged by `open` and never listed;
// a genuine entry overwritten by one that does not open is gone. Mod revisions
// keep a stale list from undoing a newer event. What the session watch, the
// node directory and the placement table are built on.
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { getLogger } from '../../protocol/logger.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import { etcdCall } from './etcd-client.js';

const log = getLogger('prefix-follower');

export interface PrefixFollowerOptions<T> {
  client: Etcd3;
  /** Ends with "/". */
  prefix: string;
  /** For logs ("session", "node", …). */
  what: string;
  /** The entry's value, or null when it is not acceptable (open logs why). */
  open: (key: string, raw: string) => T | null;
  /** Entries per list page (default 100). */
  pageSize?: number;
  /** A failed re-list is retried after this long (default 500 ms). */
  retryMs?: number;
}

export interface PrefixFollowerEvents<T> {
  /** A new or changed entry (key below the prefix). */
  put: [key: string, value: T, previous: T | null];
  /** An entry went (deleted, expired with its lease, or overwritten by one that does not open). */
  delete: [key: string, previous: T];
}

interface Known<T> {
  value: T;
  rev: bigint;
}

export class PrefixFollower<T> extends TypedEmitter<PrefixFollowerEvents<T>> {
  readonly prefix: string;
  readonly #o: PrefixFollowerOptions<T>;
  readonly #known = new Map<string, Known<T>>();
  /** Keys gone and the revision they went at, so a stale list does not bring them back. */
  readonly #gone = new Map<string, bigint>();
  #watcher: Watcher | null = null;
  /** The running re-list: they run one at a time, so each sees a revision at least its predecessor's. */
  #listing: Promise<void> = Promise.resolve();
  #retry: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(options: PrefixFollowerOptions<T>) {
    super();
    this.prefix = options.prefix;
    this.#o = options;
  }

  /** Resolves once the initial list is in (no events for it: read entries()). */
  static async create<T>(options: PrefixFollowerOptions<T>): Promise<PrefixFollower<T>> {
    const follower = new PrefixFollower(options);
    try {
      await follower.#watch();
      await follower.#relist();
    } catch (err) {
      await follower.close();
      throw err;
    }
    return follower;
  }

  /** The entries, keyed below the prefix (the prefix cut off). */
  entries(): Map<string, T> {
    return new Map([...this.#known].map(([k, v]) => [k, v.value]));
  }

  get(key: string): T | null {
    return this.#known.get(key)?.value ?? null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#watcher?.cancel().catch(() => undefined);
  }

  async #watch(): Promise<void> {
    const watcher = await etcdCall(`watch ${this.#o.what}s`, () => this.#o.client.watch().prefix(this.prefix).create());
    if (this.#closed) {
      await watcher.cancel().catch(() => undefined);
      return;
    }
    watcher.on('put', (kv) => this.#apply(kv, false));
    watcher.on('delete', (kv) => this.#apply(kv, true));
    watcher.on('connected', () => this.#relistSoon(0));
    watcher.on('disconnected', (err) => log.debug({ err, what: this.#o.what }, 'watch disconnected (it reconnects)'));
    // Cancelled by etcd (its revision compacted away): watch again, list again.
    watcher.on('error', (err) => {
      if (this.#watcher !== watcher || this.#closed) return;
      log.info({ err: err.message, what: this.#o.what }, 'watch cancelled: watching and listing again');
      this.#watcher = null;
      this.#rewatch();
    });
    this.#watcher = watcher;
  }

  #rewatch(): void {
    this.#watch()
      .then(() => this.#relist())
      .catch((err: unknown) => {
        log.debug({ err, what: this.#o.what }, 're-watch failed: retrying');
        if (this.#closed) return;
        this.#retry = setTimeout(() => {
          this.#retry = null;
          if (this.#watcher) this.#relistSoon(0);
          else this.#rewatch();
        }, this.#o.retryMs ?? 500);
      });
  }

  #relistSoon(delayMs: number): void {
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#relist().catch((err: unknown) => {
        log.debug({ err, what: this.#o.what }, 're-list failed: retrying');
        this.#relistSoon(this.#o.retryMs ?? 500);
      });
    }, delayMs);
  }

  #apply(kv: IKeyValue, deleted: boolean): void {
    if (this.#closed) return;
    const key = kv.key.toString().slice(this.prefix.length);
    const rev = BigInt(kv.mod_revision);
    const known = this.#known.get(key);
    if (known && known.rev >= rev) return;
    if ((this.#gone.get(key) ?? -1n) >= rev) return;
    const value = deleted ? null : this.#o.open(kv.key.toString(), kv.value.toString());
    if (value === null) {
      this.#gone.set(key, rev);
      if (!known) return;
      this.#known.delete(key);
      this.emit('delete', key, known.value);
      return;
    }
    this.#known.set(key, { value, rev });
    this.#gone.delete(key);
    this.emit('put', key, value, known?.value ?? null);
  }

  #relist(): Promise<void> {
    const run = this.#listing.catch(() => undefined).then(() => this.#list());
    this.#listing = run;
    return run;
  }

  /** Reads the whole prefix in pages at one revision and reconciles with it. */
  async #list(): Promise<void> {
    const seen = new Map<string, Known<T>>();
    let start = this.prefix;
    const end = `${this.prefix.slice(0, -1)}0`; // "/" + 1: the end of the prefix range
    let atRevision: string | undefined;
    for (;;) {
      const res = await etcdCall(`list ${this.#o.what}s`, () => {
        const q = this.#o.client
          .getAll()
          .inRange({ start, end })
          .sort('Key', 'Ascend')
          .limit(this.#o.pageSize ?? 100);
        return (atRevision === undefined ? q : q.revision(atRevision)).exec();
      });
      atRevision ??= res.header.revision;
      for (const kv of res.kvs) {
        const value = this.#o.open(kv.key.toString(), kv.value.toString());
        if (value !== null)
          seen.set(kv.key.toString().slice(this.prefix.length), { value, rev: BigInt(kv.mod_revision) });
      }
      const last = res.kvs[res.kvs.length - 1];
      if (!last || !res.more) break;
      start = `${last.key.toString()}\u0000`;
    }
    if (this.#closed) return;
    const at = BigInt(atRevision);
    for (const [key, k] of seen) {
      const known = this.#known.get(key);
      if ((known && known.rev >= k.rev) || (this.#gone.get(key) ?? -1n) >= k.rev) continue;
      this.#known.set(key, k);
      this.emit('put', key, k.value, known?.value ?? null);
    }
    for (const [key, known] of this.#known) {
      if (!seen.has(key) && known.rev <= at) {
        this.#known.delete(key);
        this.#gone.set(key, at);
        this.emit('delete', key, known.value);
      }
    }
    // Later lists read at or after `at`: what went before it cannot come back from one.
    for (const [key, rev] of this.#gone) if (rev < at) this.#gone.delete(key);
  }
}
