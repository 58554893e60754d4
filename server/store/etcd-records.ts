// JSON records in etcd read with their mod revisions, parsed by a zod schema,
// and compare-and-swap writes: what the etcd session and token stores share.
// A value that does not parse is a typed error naming its key (someone wrote
// it without the code's schema), never a crash further on.
import type { Etcd3, IKeyValue } from 'etcd3';
import type { z } from 'zod';
import { etcdCall } from '../cluster/etcd-client.js';
import { CorruptRecordError } from '../errors.js';

export interface Versioned<T> {
  key: string;
  value: T;
  /** mod_revision: what a compare-and-swap of this key checks. */
  rev: string;
}

/** Compare-and-swap attempts before a contended write gives up. */
export const MAX_CAS_ATTEMPTS = 30;

export class EtcdRecords<T> {
  readonly #client: Etcd3;
  readonly #schema: z.ZodType<T>;
  readonly #what: string;

  constructor(client: Etcd3, schema: z.ZodType<T>, what: string) {
    this.#client = client;
    this.#schema = schema;
    this.#what = what;
  }

  async get(key: string): Promise<Versioned<T> | null> {
    const res = await etcdCall(`${this.#what} read`, () => this.#client.get(key).exec());
    const kv = res.kvs[0];
    return kv ? this.#parse(kv) : null;
  }

  async prefix(prefix: string): Promise<Versioned<T>[]> {
    const res = await etcdCall(`${this.#what} list`, () => this.#client.getAll().prefix(prefix).exec());
    return res.kvs.map((kv) => this.#parse(kv));
  }

  async count(prefix: string): Promise<number> {
    return etcdCall(`${this.#what} count`, () => this.#client.getAll().prefix(prefix).count());
  }

  /** The raw string at `key` with its mod revision ("0" when missing, as a compare sees it). */
  async raw(key: string): Promise<{ value: string | null; rev: string }> {
    const res = await etcdCall(`${this.#what} read`, () => this.#client.get(key).exec());
    const kv = res.kvs[0];
    return kv ? { value: kv.value.toString(), rev: kv.mod_revision } : { value: null, rev: '0' };
  }

  /** Runs one transaction; true when its comparisons held and its writes were made. */
  async commit(build: (client: Etcd3) => { commit(): Promise<{ succeeded: boolean }> }): Promise<boolean> {
    const res = await etcdCall(`${this.#what} write`, () => build(this.#client).commit());
    return res.succeeded;
  }

  #parse(kv: IKeyValue): Versioned<T> {
    const key = kv.key.toString();
    let json: unknown;
    try {
      json = JSON.parse(kv.value.toString());
    } catch {
      json = undefined;
    }
    const parsed = this.#schema.safeParse(json);
    if (!parsed.success) throw new CorruptRecordError(`${this.#what} record at ${key} does not parse`, { key });
    return { key, value: parsed.data, rev: kv.mod_revision };
  }
}
