// The one codec of the values servers write to etcd for each other (node
// directory, placement table, rehome directives, health board, origin record,
// checkpoint requests, reports and records): each kind is sealed with an HMAC
// under the cluster secret and its purpose (a node entry's MAC never passes as
// a placement's), the key is covered too (a genuine entry copied under another
// key does not open), and with `keyOf` the value must name the key it is under.
// Opening parses with zod twice (the sealed shape, then the payload) and
// throws a typed error; `tryOpen` logs and returns null for the followers.
// A leader's value goes through `fencedPut`: written on the FencedWriter's
// fence, refused (StaleFenceError) unless it is stamped with the term now.
import type { Etcd3 } from 'etcd3';
import { SignedEntrySchema } from '../../protocol/cluster-state.js';
import {
  EntrySignatureError,
  MalformedEntryError,
  MisfiledEntryError,
  StaleFenceError,
  NotLeaderError,
} from './cluster-errors.js';
import type { FencedOp } from './fenced-writer.js';
import { PrefixFollower } from './prefix-follower.js';
import type { FencedWrites, SignedEntryOptions, Termed } from './signed-entry-types.js';

export type * from './signed-entry-types.js';

export class SignedEntry<T> {
  readonly purpose: string;
  readonly #o: SignedEntryOptions<T>;

  constructor(options: SignedEntryOptions<T>) {
    this.purpose = options.purpose;
    this.#o = options;
  }

  /** The stored text of `value` under `key` (the value is parsed with the schema first). */
  seal(key: string, value: T): string {
    const payload = JSON.stringify(this.#o.schema.parse(value));
    return JSON.stringify({ payload, mac: this.#o.secret.sign(this.purpose, `${key}\n${payload}`) });
  }

  /** The value stored as `raw` under `key`; MalformedEntryError, EntrySignatureError or MisfiledEntryError. */
  open(key: string, raw: string): T {
    const entry = SignedEntrySchema.safeParse(parseJson(raw));
    if (!entry.success) throw new MalformedEntryError('not a sealed entry', { key, purpose: this.purpose });
    if (!this.#o.secret.verify(this.purpose, `${key}\n${entry.data.payload}`, entry.data.mac)) {
      throw new EntrySignatureError('entry failed its cluster-secret check', { key, purpose: this.purpose });
    }
    const value = this.#o.schema.safeParse(parseJson(entry.data.payload));
    if (!value.success) {
      throw new MalformedEntryError(`sealed payload fails its schema: ${value.error.issues[0]?.message ?? '?'}`, {
        key,
        purpose: this.purpose,
      });
    }
    if (this.#o.keyOf && this.#filedUnder(value.data) !== key) {
      throw new MisfiledEntryError('entry under another key than its value names', { key, purpose: this.purpose });
    }
    return value.data;
  }

  /** The value, or null (logged as a warning) when it does not open. */
  tryOpen(key: string, raw: string): T | null {
    try {
      return this.open(key, raw);
    } catch (err) {
      const refused =
        err instanceof MalformedEntryError || err instanceof EntrySignatureError || err instanceof MisfiledEntryError;
      if (!refused) throw err;
      this.#o.log.warn({ key, purpose: this.purpose, err: err.message }, `${err.name}: entry ignored`);
      return null;
    }
  }

  /** A live copy of the entries under `prefix` that open. */
  follow(client: Etcd3, prefix: string, what: string): Promise<PrefixFollower<T>> {
    return PrefixFollower.create<T>({ client, prefix, what, open: (key, raw) => this.tryOpen(key, raw) });
  }

  /**
   * Leader only: puts `value` under `key` (with `also`, in the same
   * transaction) on the writer's fence. NotLeaderError on any other server;
   * StaleFenceError, nothing written, when the value's term is not the term now.
   * The revision written at.
   */
  async fencedPut(
    writer: FencedWrites,
    key: string,
    value: T & Termed,
    also: readonly FencedOp[] = [],
  ): Promise<string> {
    const verdict = writer.verdict();
    if (!verdict.leader) {
      throw new NotLeaderError(`not the cluster leader (${verdict.reason})`, { key, reason: verdict.reason });
    }
    if (value.term !== verdict.revision) {
      throw new StaleFenceError('a value of an earlier term: not written', {
        key,
        term: verdict.revision,
        madeFor: value.term,
      });
    }
    return writer.write([{ op: 'put', key, value: this.seal(key, value) }, ...also], value.term);
  }

  #filedUnder(value: T): string | null {
    try {
      return this.#o.keyOf?.(value) ?? null;
    } catch {
      return null; // a value keyOf cannot place (an origin that is no URL) is filed nowhere
    }
  }
}

/** `raw` parsed as JSON, or undefined when it is not JSON (for a zod safeParse to refuse). */
export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
